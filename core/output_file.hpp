// Output files that appear whole or not at all, are never shared by two writers, and never
// replace what they should not: a temporary file with a unique name beside the target, renamed
// over it only when everything was written; devices and pipes written directly; the paths of a
// run checked before any work (two outputs on one file, an output on an input, a missing
// directory). Native only: the page downloads, and the Node entry does the same in JavaScript.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace zimpute {

/// A file written through a temporary file beside it (`<path>.zimpute-XXXXXX`, unique per
/// writer) and a rename on commit(), so a failure (or never committing) leaves no partial file
/// and the old file as it was. A path that exists and is a device or a FIFO (`/dev/stdout`, a
/// pipe) is written directly: renaming over it would replace the device. A directory is refused.
class AtomicFile {
public:
    explicit AtomicFile(std::string path);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    void write(std::string_view chunk);
    /// Flushes and closes the file (errors such as a full disk surface here at the latest).
    void close();
    /// close(), then renames the temporary file to the path.
    void commit();

private:
    void fail(const char* what) const;
    std::string path_, tmp_;  // tmp_ empty when writing the path directly
    std::FILE* file_ = nullptr;
    bool committed_ = false;
};

/// Writes text to path with an AtomicFile.
void write_file_atomic(const std::string& path, std::string_view content);

/// Removes every temporary file an AtomicFile has open right now. Async-signal-safe: the
/// command line calls it from its SIGINT/SIGTERM handler.
void remove_temporary_files();

/// A file a run names, with the option that named it (for messages).
struct NamedPath {
    std::string option;  ///< e.g. "out", "data"
    std::string path;
};

/// Refuses, before any work, outputs that would lose or damage data: two outputs on the same
/// file, an output on one of the inputs, an output that is a directory, or whose directory does
/// not exist or cannot be written. Paths are compared as files (links and `./` spellings of one
/// file are the same file). Throws std::runtime_error naming the options and the path.
void check_output_paths(const std::vector<NamedPath>& outputs, const std::vector<NamedPath>& inputs);

}  // namespace zimpute
