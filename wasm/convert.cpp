#include "convert.hpp"

#include <cmath>

namespace zimpute::js {

void throw_error(const char* message, const char* name) {
    val error = val::global("Error").new_(val(message));
    if (std::strcmp(name, "Error") != 0) error.set("name", val(name));
    error.throw_();
}

std::string to_text(const val& v) { return val::global("String")(v).as<std::string>(); }

bool is_missing(const val& v) { return v.isUndefined() || v.isNull(); }

val bytes_to_js(std::string_view bytes) {
    // new Uint8Array(view) copies, so JS owns the result and can transfer its buffer.
    return val::global("Uint8Array")
        .new_(emscripten::typed_memory_view(bytes.size(), reinterpret_cast<const unsigned char*>(bytes.data())));
}

std::string js_to_bytes(const val& bytes) {
    if (bytes.typeOf().as<std::string>() == "string") return bytes.as<std::string>();
    if (!val::global("ArrayBuffer").call<bool>("isView", bytes)) return js_to_bytes(val::global("Uint8Array").new_(bytes));
    const auto n = bytes["byteLength"].as<std::size_t>();
    std::string s(n, '\0');
    // A view of any element type is copied as its bytes.
    const val u8 = val::global("Uint8Array").new_(bytes["buffer"], bytes["byteOffset"], n);
    if (n) val(emscripten::typed_memory_view(n, reinterpret_cast<unsigned char*>(s.data()))).call<void>("set", u8);
    return s;
}

val floats_to_js(const std::vector<float>& v) {
    return val::global("Float32Array").new_(emscripten::typed_memory_view(v.size(), v.data()));
}

val strings_to_js(const std::vector<std::string>& v) {
    val out = val::array();
    for (const auto& s : v) out.call<void>("push", s);
    return out;
}

Options options_from_js(const val& object) {
    Options o;
    if (is_missing(object)) return o;
    const val keys = val::global("Object").call<val>("keys", object);
    const auto n = keys["length"].as<unsigned>();
    for (unsigned i = 0; i < n; ++i) {
        const std::string key = keys[i].as<std::string>();
        o[key] = to_text(object[key]);
    }
    return o;
}

val options_to_js(const Options& options) {
    val o = val::object();
    for (const auto& [k, v] : options) o.set(k, v);
    return o;
}

Settings settings_from_js(const val& object) { return settings_from_options(options_from_js(object)); }

val layout_to_js(const InputLayout& l) {
    val o = val::object();
    o.set("orientation", l.orientation);
    o.set("header", l.header);
    o.set("rowNames", l.row_names);
    return o;
}

ReadOptions read_options_from_js(const val& layout, const std::string& source) {
    InputLayout l;
    const auto text = [](const val& v, const std::string& fallback) { return is_missing(v) ? fallback : to_text(v); };
    if (!is_missing(layout) && layout.typeOf().as<std::string>() == "object") {
        l.orientation = text(layout["orientation"], "auto");
        l.header = text(layout["header"], "auto");
        l.row_names = text(layout["rowNames"], "auto");
    } else {  // an orientation alone; true or false (as String gives them) is cells in rows or not
        l.orientation = text(layout, "auto");
        if (l.orientation == "true" || l.orientation == "false") l.orientation = l.orientation == "true" ? "cells" : "auto";
    }
    ReadOptions r = read_options(l, source);
    r.max_entries = kMaxEntries;
    return r;
}

val report_to_js(const EpochReport& r) {
    val o = val::object();
    o.set("epoch", r.epoch);
    o.set("trainLoss", r.train_loss);
    o.set("valLoss", std::isfinite(r.val_loss) ? val(r.val_loss) : val::null());
    o.set("learningRate", r.learning_rate);
    o.set("seconds", r.seconds);
    o.set("improved", r.improved);
    o.set("event", r.event);
    return o;
}

EpochReport report_from_js(const val& o) {
    EpochReport r;
    r.epoch = o["epoch"].as<int>();
    r.train_loss = o["trainLoss"].as<double>();
    r.val_loss = is_missing(o["valLoss"]) ? std::nan("") : o["valLoss"].as<double>();
    r.learning_rate = o["learningRate"].as<double>();
    r.seconds = o["seconds"].as<double>();
    r.improved = !is_missing(o["improved"]) && o["improved"].as<bool>();
    r.event = is_missing(o["event"]) ? "" : to_text(o["event"]);
    return r;
}

}  // namespace zimpute::js
