#include "compressed.hpp"

#include "count_matrix.hpp"

#include <algorithm>
#include <limits>

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
    out.resize(std::min(bytes.size() * 4 + 4096, kMaxOutput));
    // zlib counts in uInt (32 bits): input and output go to it in pieces of at most kPiece, and
    // positions are kept here (z.total_out also goes back to 0 at each member).
    constexpr std::size_t kPiece = std::numeric_limits<uInt>::max();
    auto* const in = reinterpret_cast<Bytef*>(bytes.data());
    std::size_t fed = 0, produced = 0;
    for (;;) {
        if (produced == out.size()) {
            if (out.size() >= kMaxOutput) {
                inflateEnd(&z);
                throw InputError(source + ": decompresses to more than 4 GiB; too large to load");
            }
            out.resize(std::min(out.size() * 2, kMaxOutput));
        }
        if (z.avail_in == 0 && fed < bytes.size()) {
            const std::size_t n = std::min(bytes.size() - fed, kPiece);
            z.next_in = in + fed;
            z.avail_in = static_cast<uInt>(n);
            fed += n;
        }
        const std::size_t room = std::min(out.size() - produced, kPiece);
        z.next_out = reinterpret_cast<Bytef*>(&out[produced]);
        z.avail_out = static_cast<uInt>(room);
        const int rc = inflate(&z, Z_NO_FLUSH);
        produced += room - z.avail_out;
        if (rc == Z_STREAM_END) {
            // `cat a.gz b.gz` is one gzip file of two members (RFC 1952): read them all, as gzip does.
            const std::string_view rest(reinterpret_cast<const char*>(z.next_in), z.avail_in + (bytes.size() - fed));
            if (rest.find_first_not_of('\0') == std::string_view::npos) break;  // the end, or zero padding
            if (!is_gzip(rest)) {
                inflateEnd(&z);
                throw InputError(source + ": unexpected bytes after the gzip data (offset " +
                                 std::to_string(bytes.size() - rest.size()) + ")");
            }
            inflateReset(&z);
            continue;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            inflateEnd(&z);
            throw InputError(source + ": damaged gzip data (" + (z.msg ? z.msg : "inflate failed") + ")");
        }
        if (rc == Z_BUF_ERROR && z.avail_in == 0 && fed == bytes.size()) {
            inflateEnd(&z);
            throw InputError(source + ": truncated gzip data");
        }
    }
    out.resize(produced);
    inflateEnd(&z);
    return out;
#else
    throw InputError(source + ": gzip-compressed input; this build cannot decompress it (decompress the file first)");
#endif
}

}  // namespace zimpute
