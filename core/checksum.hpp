// CRC-32 (the IEEE polynomial of zlib, gzip and PNG) of a byte range: model files carry one of
// their weights, so a damaged file is refused instead of imputing with wrong weights. Here rather
// than zlib's crc32 because the WebAssembly build has no zlib.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace zimpute {

/// CRC-32 of `bytes`, continuing from `crc` (0 to start), as zlib's crc32(crc, bytes, n).
inline std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0) {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    crc = ~crc;
    for (unsigned char b : bytes) crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

}  // namespace zimpute
