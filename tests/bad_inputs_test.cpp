// The bad-input corpus (tests/data/bad/MANIFEST.tsv): every malformed or hostile file must give
// exactly its expected message (or warning) through the same Session the CLI and wasm use.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "session.hpp"

using namespace zimpute;

namespace {

const std::string kDir = std::string(ZIMPUTE_SOURCE_DIR) + "/tests/data/bad/";

struct Case {
    std::string file, stage, expected;
};

std::vector<Case> manifest() {
    std::ifstream in(kDir + "MANIFEST.tsv");
    std::vector<Case> cases;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::stringstream ss(line);
        Case c;
        std::getline(ss, c.file, '\t');
        std::getline(ss, c.stage, '\t');
        std::getline(ss, c.expected);
        cases.push_back(c);
    }
    return cases;
}

ReadOptions named(const std::string& file) {
    ReadOptions o;
    o.source = file;
    return o;
}

// What happens when `c` is used as its stage says: the message of the first failure, or of
// the expected warning, or "no error".
std::string outcome(const Case& c) {
    Session s;
    try {
        const std::string bytes = read_file(kDir + c.file);
        if (c.stage == "data" || c.stage == "train" || c.stage == "warning") {
            const CountMatrix& m = s.load_data(bytes, named(c.file));
            if (c.stage == "warning") {
                for (const auto& w : m.warnings)
                    if (w == c.expected) return w;
                return "warnings: " + std::to_string(m.warnings.size());
            }
            if (c.stage == "train") s.start_training();
            return "no error";
        }
        if (c.stage == "mtx") {
            s.load_mtx(bytes, "", "", c.file, "features.tsv", "barcodes.tsv");
            return "no error";
        }
        const auto colon = c.stage.find(':');
        const std::string base = c.stage.substr(colon + 1);
        s.load_data(read_file(kDir + base), named(base));
        if (c.stage.rfind("truth:", 0) == 0) s.load_truth(bytes, named(c.file));
        else s.load_model(bytes, c.file);
        return "no error";
    } catch (const std::exception& e) {
        return e.what();
    }
}

}  // namespace

TEST_CASE("bad-input corpus: each file gives exactly its expected message") {
    const auto cases = manifest();
    REQUIRE(cases.size() >= 30);
    for (const auto& c : cases) {
        CAPTURE(c.file);
        CAPTURE(c.stage);
        CHECK(outcome(c) == c.expected);
    }
}
