#include "output_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace zimpute {
namespace {

// The temporary files open right now, for remove_temporary_files (a signal handler may only
// read lock-free atomics and call unlink). More than kSlots files at once are not cleaned up by
// a signal, but still by their destructors.
constexpr int kSlots = 64;
std::atomic<const char*> g_temps[kSlots];

void track(const char* path) {
    for (auto& slot : g_temps) {
        const char* empty = nullptr;
        if (slot.compare_exchange_strong(empty, path)) return;
    }
}

void untrack(const char* path) {
    for (auto& slot : g_temps) {
        const char* mine = path;
        if (slot.compare_exchange_strong(mine, nullptr)) return;
    }
}

mode_t new_file_mode() {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    return 0666 & ~mask;
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
    // A link (such as /dev/stdout) is written where it points: renaming over it would replace
    // the link itself.
    std::error_code ec;
    namespace fs = std::filesystem;
    if (fs::is_symlink(path_, ec)) {
        // canonical() where the target exists; a link to a file not yet made, by its text. A
        // pipe's /proc link resolves to no path: it stays, and is written in place below.
        fs::path target = fs::canonical(path_, ec);
        if (ec) {
            const fs::path link = fs::read_symlink(path_, ec);
            target = ec ? fs::path() : (link.is_absolute() ? link : fs::path(path_).parent_path() / link);
        }
        if (!target.empty()) path_ = target.string();
    }
    struct stat st {};
    const bool exists = ::stat(path_.c_str(), &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) throw std::runtime_error("cannot write '" + path_ + "': it is a directory");
    if (exists && !S_ISREG(st.st_mode)) {
        // A device or a pipe: written as it is (a rename would replace it by a regular file).
        file_ = std::fopen(path_.c_str(), "wb");
        if (!file_) fail("cannot write");
        return;
    }
    std::string name = path_ + ".zimpute-XXXXXX";
    const int fd = ::mkstemp(name.data());
    if (fd < 0) fail("cannot write");
    // mkstemp makes the file private (0600); the result gets the old file's mode, or a new file's.
    ::fchmod(fd, exists ? (st.st_mode & 07777) : new_file_mode());
    file_ = ::fdopen(fd, "wb");
    if (!file_) {
        const int e = errno;
        ::close(fd);
        ::unlink(name.c_str());
        errno = e;
        fail("cannot write");
    }
    tmp_ = std::move(name);
    track(tmp_.c_str());
}

AtomicFile::~AtomicFile() {
    if (file_) std::fclose(file_);
    if (!committed_ && !tmp_.empty()) {
        std::remove(tmp_.c_str());
        untrack(tmp_.c_str());
    }
}

void AtomicFile::fail(const char* what) const {
    throw std::runtime_error(std::string(what) + " '" + path_ + "': " + std::strerror(errno));
}

void AtomicFile::write(std::string_view chunk) {
    if (!file_) throw std::logic_error("AtomicFile: write after close");
    if (std::fwrite(chunk.data(), 1, chunk.size(), file_) != chunk.size()) fail("cannot write");
}

void AtomicFile::close() {
    if (!file_) return;
    std::FILE* f = file_;
    file_ = nullptr;
    if (std::fclose(f) != 0) fail("cannot write");
}

void AtomicFile::commit() {
    close();
    if (!tmp_.empty()) {
        if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot write");
        untrack(tmp_.c_str());
    }
    committed_ = true;
}

void write_file_atomic(const std::string& path, std::string_view content) {
    AtomicFile f(path);
    f.write(content);
    f.commit();
}

void remove_temporary_files() {
    for (auto& slot : g_temps)
        if (const char* p = slot.load()) ::unlink(p);
}

void check_output_paths(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs) {
    namespace fs = std::filesystem;
    const auto same_file = [](const std::string& a, const std::string& b) {
        std::error_code ea, eb;
        if (fs::exists(a, ea) && fs::exists(b, eb)) return fs::equivalent(a, b, ea);
        return fs::weakly_canonical(a, ea) == fs::weakly_canonical(b, eb);
    };
    const auto quoted = [](const NamedPath& p) { return "--" + p.option + " '" + p.path + "'"; };
    for (std::size_t i = 0; i < outputs.size(); ++i) {
        const NamedPath& o = outputs[i];
        for (std::size_t j = 0; j < i; ++j)
            if (same_file(outputs[j].path, o.path))
                throw std::runtime_error("--" + outputs[j].option + " and --" + o.option + " name the same file '" +
                                         o.path + "': give each output its own file");
        for (const NamedPath& in : inputs)
            if (same_file(in.path, o.path))
                throw std::runtime_error(quoted(o) + " is the input --" + in.option +
                                         ": writing it would destroy the input; choose another output file");
        std::error_code ec;
        if (fs::is_directory(o.path, ec)) throw std::runtime_error(quoted(o) + " is a directory, not a file");
        fs::path dir = fs::path(o.path).parent_path();
        if (dir.empty()) dir = ".";
        const fs::path real_dir = fs::weakly_canonical(o.path, ec).parent_path();  // where a link points
        if (!fs::is_directory(dir, ec))
            throw std::runtime_error(quoted(o) + ": the directory '" + dir.string() + "' does not exist");
        const bool written_in_place = fs::exists(o.path, ec) && !fs::is_regular_file(o.path, ec);  // a device
        if (!written_in_place && ::access(real_dir.empty() ? dir.c_str() : real_dir.c_str(), W_OK) != 0)
            throw std::runtime_error(quoted(o) + ": the directory '" + dir.string() + "' cannot be written (" +
                                     std::strerror(errno) + ")");
    }
}

}  // namespace zimpute
