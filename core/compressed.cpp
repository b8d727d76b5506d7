#include "compressed.hpp"

#include "count_matrix.hpp"

#ifdef ZIMPUTE_HAVE_ZLIB
#include <zlib.h>
#endif

namespace zimpute {

bool is_gzip(std::string_view bytes) {
    return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b;
}

std::string maybe_gunzip(std::string bytes, const std::string& source) {
    if (!is_gzip(bytes)) return bytes;
#ifdef ZIMPUTE_HAVE_ZLIB
    constexpr std::size_t kMaxOutput = std::size_t(4) << 30;
    z_stream z{};
    if (inflateInit2(&z, 15 + 32) != Z_OK) throw InputError(source + ": cannot start gzip decompression");
    std::string out;
    out.resize(bytes.size() * 4 + 4096);
    z.next_in = reinterpret_cast<Bytef*>(bytes.data());
    z.avail_in = static_cast<uInt>(bytes.size());
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (z.total_out == out.size()) {
            if (out.size() >= kMaxOutput) {
                inflateEnd(&z);
                throw InputError(source + ": decompresses to more than 4 GiB; too large to load");
            }
            out.resize(std::min(out.size() * 2, kMaxOutput));
        }
        z.next_out = reinterpret_cast<Bytef*>(&out[z.total_out]);
        z.avail_out = static_cast<uInt>(out.size() - z.total_out);
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            inflateEnd(&z);
            throw InputError(source + ": damaged gzip data (" + (z.msg ? z.msg : "inflate failed") + ")");
        }
        if (rc == Z_BUF_ERROR && z.avail_in == 0) {
            inflateEnd(&z);
            throw InputError(source + ": truncated gzip data");
        }
    }
    out.resize(z.total_out);
    inflateEnd(&z);
    return out;
#else
    throw InputError(source + ": gzip-compressed input; this build cannot decompress it (decompress the file first)");
#endif
}

}  // namespace zimpute
