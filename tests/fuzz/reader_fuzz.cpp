// libFuzzer target for everything that parses bytes a user hands in: the count-matrix reader in
// both orientations (and the writer on what it accepted) and the model-file reader. Built by
// tests/fuzz/run.sh with clang, -fsanitize=fuzzer,address,undefined. Documented failures
// (InputError) are fine; a crash, sanitizer report, leak, timeout or out-of-memory is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "count_matrix.hpp"
#include "count_writer.hpp"
#include "model_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (bool cells_in_rows : {false, true}) {
        try {
            zimpute::ReadOptions o;
            o.cells_in_rows = cells_in_rows;
            o.source = "fuzz.csv";
            const zimpute::CountMatrix m = zimpute::read_counts(text, o);
            zimpute::write_counts(m, m.counts);
        } catch (const zimpute::InputError&) {
        }
    }
    try {
        zimpute::load_model(text, "fuzz.zim");
    } catch (const zimpute::InputError&) {
    }
    return 0;
}
