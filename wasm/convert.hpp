// What every binding file shares: errors to JS (guarded), bytes both ways, option objects to the
// contract's settings, and epoch reports both ways. Every entry point bound to JS runs inside
// guarded, so a C++ exception always arrives as a JS Error with the core's message.
#pragma once

#include <emscripten/val.h>

#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "../cli/command.hpp"

namespace zimpute::js {

using emscripten::val;

/// Throws a JS Error with `message`; its `name` is `name` ("UsageError" for a command-line
/// mistake, so the Node entry can exit 2).
[[noreturn]] void throw_error(const char* message, const char* name);

/// Runs f; a C++ exception becomes a JS Error. The message is copied out of the catch block
/// first, so no C++ exception is alive while the JS exception unwinds the wasm frames.
template <typename F>
auto guarded(F&& f) -> decltype(f()) {
    static char message[4096];
    const char* name = "Error";
    try {
        return f();
    } catch (const UsageError& e) {
        std::strncpy(message, e.what(), sizeof message - 1);
        name = "UsageError";
    } catch (const std::bad_alloc&) {
        std::strncpy(message,
                     "out of memory: this matrix is too large for the browser (4 GB at most); use the command-line "
                     "zimpute, or keep fewer genes or cells",
                     sizeof message - 1);
    } catch (const std::exception& e) {
        std::strncpy(message, e.what(), sizeof message - 1);
    } catch (...) {
        std::strncpy(message, "unknown error in zimpute", sizeof message - 1);
    }
    throw_error(message, name);
}

/// String(v).
std::string to_text(const val& v);
bool is_missing(const val& v);  ///< undefined or null

/// A fresh JS-owned Uint8Array copy (never a view into the wasm heap).
val bytes_to_js(std::string_view bytes);
/// Bytes from JS (Uint8Array or other view, ArrayBuffer, Node Buffer or string), copied once
/// into the wasm heap: Embind's std::string argument makes two copies, and inputs are as large
/// as the matrix.
std::string js_to_bytes(const val& bytes);
val floats_to_js(const std::vector<float>& v);
val strings_to_js(const std::vector<std::string>& v);

/// A plain object's own keys and String(value)s; undefined or null give none.
Options options_from_js(const val& object);
val options_to_js(const Options& options);
/// Settings from a plain option object: the contract's preset + set_option.
Settings settings_from_js(const val& object);

/// The largest matrix the module holds densely (entries): memory ends at 4 GB and training
/// holds several matrices of this size (natively: core's 1.5e9). Checked against the size an
/// MTX header declares, before anything is allocated.
constexpr double kMaxEntries = 1.5e8;

/// How to read a CSV/TSV from JS: a layout object {orientation, header, rowNames} (InputLayout's
/// strings; a missing one is "auto"), or an orientation alone: true or "cells" = cells in rows;
/// "genes" = genes in rows, no detection; false, undefined or "auto" = detected. With the
/// module's kMaxEntries. Throws std::invalid_argument for an unknown value.
ReadOptions read_options_from_js(const val& layout, const std::string& source);
/// InputLayout as {orientation, header, rowNames}.
val layout_to_js(const InputLayout& l);

/// The data of the page's pictures after a run (pictures_binding.cpp): a session with a result.
val pictures_to_js(Session& s);

/// {epoch, trainLoss, valLoss (null if not finite), learningRate, seconds, improved, event}
val report_to_js(const EpochReport& r);
EpochReport report_from_js(const val& o);

}  // namespace zimpute::js
