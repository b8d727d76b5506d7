// The command contract (cli/command.hpp) bound for the Node entry, plus the module-level
// functions the page uses (optionDocs, simulate, maxThreads). The Node entry parses, checks and
// formats through these, so it and the native CLI cannot drift.
#include <emscripten/bind.h>

#include "../core/thread_pool.hpp"
#include "convert.hpp"

namespace zimpute::js {
namespace {

val pairs_to_js(const std::vector<std::pair<std::string, std::string>>& pairs) {
    val out = val::array();
    for (const auto& [a, b] : pairs) out.call<void>("push", strings_to_js({a, b}));
    return out;
}

// {name, help, options, flags, and unless help: settings (for new Session), layout (how CSV/TSV
// inputs are read: {orientation, header, rowNames}, for Session.loadData),
// quiet, outputs ([path, what] for Session.writeOutput), inputs and outputFiles ([option, path]
// of every file read and written, for the checks before any work)}. A command-line mistake
// throws an Error named "UsageError".
val parse_command_js(val argv) {
    return guarded([&] {
        const Command c = parse_command(emscripten::vecFromJSArray<std::string>(argv));
        val o = val::object();
        o.set("name", c.name);
        o.set("help", c.help());
        o.set("options", options_to_js(c.options));
        o.set("flags", strings_to_js({c.flags.begin(), c.flags.end()}));
        if (c.help()) return o;
        o.set("settings", options_to_js(settings_options(c)));
        o.set("layout", layout_to_js(input_layout(c)));
        o.set("quiet", c.flag("quiet"));
        o.set("outputs", pairs_to_js(command_outputs(c)));
        const CommandFiles files = command_files(c);
        const auto named = [](const std::vector<NamedPath>& v) {
            std::vector<std::pair<std::string, std::string>> out;
            for (const auto& p : v) out.emplace_back(p.option, p.path);
            return pairs_to_js(out);
        };
        o.set("inputs", named(files.inputs));
        o.set("outputFiles", named(files.outputs));
        return o;
    });
}

Command command_from_js(const val& o) {
    Command c;
    c.name = to_text(o["name"]);
    c.options = options_from_js(o["options"]);
    for (const auto& f : emscripten::vecFromJSArray<std::string>(o["flags"])) c.flags.insert(f);
    return c;
}

// `simulate` for a parsed command: {files: [[path, Uint8Array]], summary: RESULT_JSON's object}.
val simulate_command_js(val command) {
    return guarded([&] {
        const SimulateRun run = run_simulate(command_from_js(command));
        val files = val::array();
        for (const auto& [path, content] : run.files) {
            val f = val::array();
            f.call<void>("push", path);
            f.call<void>("push", bytes_to_js(content));
            files.call<void>("push", f);
        }
        val o = val::object();
        o.set("files", files);
        o.set("summary", run.summary);
        return o;
    });
}

// The page's simulation: {genes, cells, groups, zeroFraction, seed} in, {data, truth} as CSV
// bytes in the course's format out. The options are read by the contract's simulate_options.
val simulate_js(val options) {
    return guarded([&] {
        Options o = options_from_js(options);
        if (o.count("zeroFraction")) o["zero-fraction"] = o["zeroFraction"];
        const Simulation s = simulate(simulate_options(o));
        val out = val::object();
        out.set("data", bytes_to_js(write_counts(s.observed, s.observed.counts)));
        out.set("truth", bytes_to_js(write_counts(s.truth, s.truth.counts)));
        return out;
    });
}

// [{key, default, help, choices}] in display order.
val option_docs_js() {
    return guarded([&] {
        val out = val::array();
        for (const auto& d : option_docs()) {
            val o = val::object();
            o.set("key", d.key);
            o.set("default", d.default_value);
            o.set("help", d.help);
            o.set("choices", strings_to_js(d.choices));
            out.call<void>("push", o);
        }
        return out;
    });
}

std::string progress_line_js(val report, int epochs, bool quiet) {
    return guarded([&] { return progress_line(report_from_js(report), epochs, quiet); });
}

std::string warning_line_js(std::string path, std::string warning) {
    return guarded([&] { return warning_line(path, warning); });
}

std::string usage_js() { return guarded([] { return usage_text(); }); }

// Threads a session can use with option threads = 0 (this machine's cores, within the pool).
int max_threads_js() { return guarded([] { return resolve_threads(0); }); }

// The module's thread limit, set before any pool is made: the threads build's pthread workers
// are a fixed set started with the module (ZIMPUTE_WASM_POOL, wasm/CMakeLists.txt), plus the
// calling thread; the single-thread build has only the calling thread.
void set_thread_limit() {
#ifdef __EMSCRIPTEN_PTHREADS__
    set_max_threads(ZIMPUTE_WASM_POOL + 1);
#else
    set_max_threads(1);
#endif
}

}  // namespace
}  // namespace zimpute::js

EMSCRIPTEN_BINDINGS(zimpute_command) {
    using namespace zimpute::js;
    set_thread_limit();
    emscripten::function("parseCommand", &parse_command_js);
    emscripten::function("simulateCommand", &simulate_command_js);
    emscripten::function("usage", &usage_js);
    emscripten::function("progressLine", &progress_line_js);
    emscripten::function("warningLine", &warning_line_js);
    emscripten::function("optionDocs", &option_docs_js);
    emscripten::function("simulate", &simulate_js);
    emscripten::function("maxThreads", &max_threads_js);
}
