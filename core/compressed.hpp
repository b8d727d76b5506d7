// gzip-compressed input (.csv.gz, .tsv.gz): recognised by its magic bytes, not by the name.
#pragma once

#include <string>
#include <string_view>

namespace zimpute {

/// True if `bytes` start with the gzip magic number (1f 8b).
bool is_gzip(std::string_view bytes);

/// Returns `bytes` unchanged, or decompressed if they are gzip. Builds without zlib (the wasm
/// module: the page and the Node entry decompress before handing bytes in) throw InputError
/// saying so. A stream that would inflate past 4 GiB, or a damaged one, throws InputError.
std::string maybe_gunzip(std::string bytes, const std::string& source);

}  // namespace zimpute
