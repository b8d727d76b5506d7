// Output files: whole or not at all, one temporary per writer, devices written in place, temps
// removed on a signal, and the paths of a run checked before any work.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "output_file.hpp"

using namespace zimpute;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test case, removed afterwards.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string t = (fs::temp_directory_path() / "zimpute-output-XXXXXX").string();
        path = ::mkdtemp(t.data());
    }
    ~TempDir() { fs::remove_all(path); }
    std::string operator/(const std::string& name) const { return (path / name).string(); }
    std::size_t entries() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(path), fs::directory_iterator())); }
};

std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("a failed or abandoned write leaves the old file as it was and no temporary behind") {
    TempDir d;
    write_file_atomic(d / "r.csv", "old\n");
    {
        AtomicFile f(d / "r.csv");
        f.write("new, but never committed");
        CHECK(d.entries() == 2);  // the result and one temporary beside it
    }
    CHECK(slurp(d / "r.csv") == "old\n");
    CHECK(d.entries() == 1);
    CHECK_THROWS_WITH_AS(write_file_atomic(d / "missing/r.csv", "x"), doctest::Contains("cannot write"), std::runtime_error);
}

TEST_CASE("two writers of one path each get their own temporary: the result is one of them, whole") {
    TempDir d;
    AtomicFile a(d / "r.csv"), b(d / "r.csv");
    const std::string big_a(1 << 20, 'a'), big_b(1 << 19, 'b');
    a.write(big_a);
    b.write(big_b);
    b.commit();
    CHECK(slurp(d / "r.csv") == big_b);
    a.commit();
    CHECK(slurp(d / "r.csv") == big_a);
    CHECK(d.entries() == 1);
}

TEST_CASE("the result keeps an existing file's mode; a device is written in place, a directory refused") {
    TempDir d;
    write_file_atomic(d / "r.csv", "x");
    ::chmod((d / "r.csv").c_str(), 0640);
    write_file_atomic(d / "r.csv", "y");
    struct stat st {};
    REQUIRE(::stat((d / "r.csv").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);

    write_file_atomic("/dev/null", "into the device");
    REQUIRE(::stat("/dev/null", &st) == 0);
    CHECK(S_ISCHR(st.st_mode));  // not replaced by a regular file
    CHECK_THROWS_WITH_AS(AtomicFile(d.path.string()), doctest::Contains("it is a directory"), std::runtime_error);
}

TEST_CASE("remove_temporary_files (the signal handler's) removes the open temporaries only") {
    TempDir d;
    write_file_atomic(d / "kept.csv", "k");
    AtomicFile a(d / "a.csv"), b(d / "b.csv");
    a.write("a");
    CHECK(d.entries() == 3);
    remove_temporary_files();
    CHECK(d.entries() == 1);
    CHECK(fs::exists(d / "kept.csv"));
}

TEST_CASE("the paths of a run are checked before any work") {
    TempDir d;
    write_file_atomic(d / "data.csv", "a\n1\n");
    fs::create_symlink(d / "data.csv", d / "link.csv");
    fs::create_directory(d / "sub");
    const std::vector<NamedPath> in = {{"data", d / "data.csv"}};
    CHECK_NOTHROW(check_output_paths({{"out", d / "r.csv"}, {"metrics", d / "m.json"}}, in));
    CHECK_THROWS_WITH_AS(check_output_paths({{"out", d / "r.csv"}, {"pi", (d.path / "sub" / ".." / "r.csv").string()}}, in),
                         doctest::Contains("--out and --pi name the same file"), std::runtime_error);
    CHECK_THROWS_WITH_AS(check_output_paths({{"out", d / "data.csv"}}, in),
                         doctest::Contains("is the input --data: writing it would destroy the input"), std::runtime_error);
    CHECK_THROWS_WITH_AS(check_output_paths({{"out", d / "link.csv"}}, in), doctest::Contains("is the input --data"),
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(check_output_paths({{"out", d / "sub"}}, in), doctest::Contains("is a directory"), std::runtime_error);
    const std::string missing = "the directory '" + (d / "nodir") + "' does not exist";
    CHECK_THROWS_WITH_AS(check_output_paths({{"out", d / "nodir/r.csv"}}, in), doctest::Contains(missing.c_str()),
                         std::runtime_error);
}
