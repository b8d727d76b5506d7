// CRC-32 against the standard's check value and zlib's (Python's binascii.crc32) results.
#include <doctest/doctest.h>

#include <string>

#include "checksum.hpp"

using namespace zimpute;

TEST_CASE("crc32: the check value of '123456789', zlib's values, and continuation") {
    CHECK(crc32("") == 0u);
    CHECK(crc32("123456789") == 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
    // python3 -c 'import binascii; print(hex(binascii.crc32(b"ZIMPUTE")), hex(binascii.crc32(bytes(range(256)))))'
    CHECK(crc32("ZIMPUTE") == 0xebe6606du);
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    CHECK(crc32(all) == 0x29058c73u);
    // In two pieces as in one (what zlib's crc32(crc, ...) promises).
    CHECK(crc32(all.substr(100), crc32(all.substr(0, 100))) == crc32(all));
    // Any one flipped bit changes it.
    for (std::size_t i = 0; i < all.size(); i += 17) {
        std::string flipped = all;
        flipped[i] = static_cast<char>(flipped[i] ^ 0x10);
        CHECK(crc32(flipped) != crc32(all));
    }
}
