#include "model_io.hpp"

#include "checksum.hpp"

#include <algorithm>
#include <cinttypes>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <unordered_map>

namespace zimpute {
namespace {

template <typename V>
std::string join(const V& v) {
    std::ostringstream os;
    os.precision(9);  // float round-trips exactly with 9 significant digits
    for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(v.size()); ++i) os << (i ? "," : "") << v[i];
    return os.str();
}

void append_floats(std::string& out, const Vec<float>& v) {
    out.append(reinterpret_cast<const char*>(v.data()), static_cast<std::size_t>(v.size()) * sizeof(float));
}

}  // namespace

std::string save_model(const Model& model, bool genes_named) {
    const Network<float>& net = *model.net;
    std::ostringstream h;
    h << "ZIMPUTE-MODEL " << kModelFormatVersion << "\n";
    for (const auto& d : option_docs())
        if (d.key != "threads" && d.key != "calibrate" && d.key != "ensemble")  // how a run went, not the model
            h << "option " << d.key << " " << get_option(model.settings, d.key) << "\n";
    if (!model.calibration.empty()) h << "calibration " << model.calibration << "\n";
    h << "genes_total " << model.prep.n_genes_total << "\n";
    h << "genes_named " << (genes_named ? 1 : 0) << "\n";
    h << "kept_genes " << join(model.prep.kept_genes) << "\n";
    h.precision(9);
    h << "size_factor_reference " << model.prep.size_factor_reference << "\n";
    h << "center " << join(model.prep.center) << "\n";
    h << "scale " << join(model.prep.scale) << "\n";
    h << "params " << net.params.size() << "\n";
    h << "stats " << net.running_mean.size() << "\n";
    std::string weights;
    append_floats(weights, net.params);
    append_floats(weights, net.running_mean);
    append_floats(weights, net.running_var);
    h << "genes\n";
    for (const auto& g : model.genes) h << g << "\n";
    h << "data\n";
    // The CRC-32 of everything else (header and weights) goes in as line 2.
    const std::string header = h.str();
    char crc[32];
    std::snprintf(crc, sizeof crc, "crc32 %08" PRIx32 "\n", crc32(weights, crc32(header)));
    const std::size_t line2 = header.find('\n') + 1;
    return header.substr(0, line2) + crc + header.substr(line2) + weights;
}

namespace {

// The CRC-32 a version 2 file must carry: of its header without line 2 (the crc32 line) and with
// "\r\n" read as "\n" (a header edited on Windows), then of its weights.
std::uint32_t file_crc(std::string_view header, std::string_view weights) {
    std::string text;
    text.reserve(header.size());
    std::size_t pos = 0;
    for (int line = 1; pos < header.size(); ++line) {
        std::size_t end = header.find('\n', pos);
        if (end == std::string_view::npos) end = header.size();
        std::string_view l = header.substr(pos, end - pos);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        if (line != 2) text.append(l).append("\n");
        pos = end + 1;
    }
    return crc32(weights, crc32(text));
}

// The text header of a model file, line by line, with messages naming the file and line.
class HeaderReader {
public:
    HeaderReader(std::string_view bytes, const std::string& source) : bytes_(bytes), source_(source) {}

    /// The next line, without its '\n' (or "\r\n": a header edited on Windows still reads).
    std::string next_line() {
        const std::size_t end = bytes_.find('\n', pos_);
        if (end == std::string_view::npos)
            throw InputError(source_ + ": truncated model file (header ends at line " + std::to_string(line_no_) + ")");
        std::string l(bytes_.substr(pos_, end - pos_));
        if (!l.empty() && l.back() == '\r') l.pop_back();
        pos_ = end + 1;
        ++line_no_;
        return l;
    }
    InputError fail(const std::string& what) const {
        return InputError(source_ + ": line " + std::to_string(line_no_) + ": " + what);
    }
    std::size_t pos() const { return pos_; }

private:
    std::string_view bytes_;
    const std::string& source_;
    std::size_t pos_ = 0;
    long line_no_ = 0;
};

// The header's key-value lines up to "genes": options into `settings`, the rest returned.
std::unordered_map<std::string, std::string> read_fields(HeaderReader& r, Settings& settings) {
    std::unordered_map<std::string, std::string> fields;
    for (;;) {
        const std::string l = r.next_line();
        if (l == "genes") return fields;
        const auto sp = l.find(' ');
        if (sp == std::string::npos) throw r.fail("expected 'key value', found '" + l + "'");
        const std::string key = l.substr(0, sp), value = l.substr(sp + 1);
        if (key != "option") {
            fields[key] = value;
            continue;
        }
        const auto sp2 = value.find(' ');
        try {
            set_option(settings, value.substr(0, sp2), sp2 == std::string::npos ? "" : value.substr(sp2 + 1));
        } catch (const std::invalid_argument& e) {
            throw r.fail(e.what());
        }
    }
}

// The preprocessing parameters from the header's fields, checked against each other and the
// file's size before anything is allocated from them: a damaged or hostile header must not cause
// huge allocations or reads outside the data (tests/fuzz/reader_fuzz.cpp).
PreprocessParams read_preprocessing(const std::unordered_map<std::string, std::string>& fields, const Settings& settings,
                                    std::size_t bytes_left, const std::string& source) {
    const auto field = [&](const char* k) -> const std::string& {
        const auto it = fields.find(k);
        if (it == fields.end()) throw InputError(source + ": model header lacks '" + k + "'");
        return it->second;
    };
    const auto numbers = [&](const char* k) {
        std::vector<double> v;
        std::stringstream ss(field(k));
        std::string part;
        double d = 0;
        while (std::getline(ss, part, ',')) {
            if (!parse_decimal(part, d)) throw InputError(source + ": malformed number in the model header ('" + k + "')");
            v.push_back(d);
        }
        return v;
    };
    const auto number = [&](const char* k) {
        const auto v = numbers(k);
        if (v.size() != 1) throw InputError(source + ": malformed number in the model header ('" + k + "')");
        return v[0];
    };
    PreprocessParams p;
    p.options = settings.preprocess;
    const double total = number("genes_total");
    if (total < 1 || total != std::floor(total) || total > static_cast<double>(bytes_left))
        throw InputError(source + ": the header claims " + field("genes_total") + " genes (damaged file?)");
    p.n_genes_total = static_cast<Eigen::Index>(total);
    for (double d : numbers("kept_genes")) {
        if (d != std::floor(d) || d < 0 || d >= total || (!p.kept_genes.empty() && d <= static_cast<double>(p.kept_genes.back())))
            throw InputError(source + ": invalid kept gene list in the header (damaged file?)");
        p.kept_genes.push_back(static_cast<Eigen::Index>(d));
    }
    p.size_factor_reference = static_cast<float>(number("size_factor_reference"));
    const auto c = numbers("center"), s = numbers("scale");
    p.center = Eigen::Map<const Eigen::VectorXd>(c.data(), static_cast<Eigen::Index>(c.size())).cast<float>();
    p.scale = Eigen::Map<const Eigen::VectorXd>(s.data(), static_cast<Eigen::Index>(s.size())).cast<float>();
    const auto kept = static_cast<Eigen::Index>(p.kept_genes.size());
    const Eigen::Index scale_len = settings.preprocess.scale == ScaleMethod::per_gene ? kept : 1;
    if (kept < 1 || p.center.size() != scale_len || p.scale.size() != scale_len)
        throw InputError(source + ": preprocessing parameters do not match the genes (damaged file?)");
    return p;
}

}  // namespace

Model load_model(std::string_view bytes, const std::string& source, bool* genes_named) {
    HeaderReader r(bytes, source);
    if (bytes.substr(0, 14) != "ZIMPUTE-MODEL ")
        throw InputError(source + ": not a zimpute model file (it should start with 'ZIMPUTE-MODEL')");
    const std::string first = r.next_line();
    // Version 1 (before crc32) still loads; its options are a subset of today's.
    const bool v1 = first == "ZIMPUTE-MODEL 1";
    if (!v1 && first != "ZIMPUTE-MODEL " + std::to_string(kModelFormatVersion))
        throw r.fail("unsupported model format '" + first + "'; this zimpute reads versions 1 to " +
                     std::to_string(kModelFormatVersion));

    Model m;
    const auto fields = read_fields(r, m.settings);
    m.prep = read_preprocessing(fields, m.settings, bytes.size() - r.pos(), source);
    if (genes_named) {
        const auto it = fields.find("genes_named");
        if (it == fields.end()) throw InputError(source + ": model header lacks 'genes_named'");
        *genes_named = it->second == "1";
    }
    // Kept as text for files saved again; reports never echo it (a file's text is not trusted JSON).
    if (const auto it = fields.find("calibration"); it != fields.end()) m.calibration = it->second;
    for (Eigen::Index i = 0; i < m.prep.n_genes_total; ++i) m.genes.push_back(r.next_line());
    if (r.next_line() != "data") throw r.fail("expected 'data' after the gene names");

    const auto kept = static_cast<Eigen::Index>(m.prep.kept_genes.size());
    const NetworkOptions net_options = network_options(m.settings);
    const ParamLayout layout(kept, net_options);
    const auto count = [&](const char* k) {
        const auto it = fields.find(k);
        return it == fields.end() ? std::string() : it->second;
    };
    for (const char* k : {"params", "stats"})
        if (count(k).empty()) throw InputError(source + ": model header lacks '" + k + "'");
    if (count("params") != std::to_string(layout.params) || count("stats") != std::to_string(layout.stats))
        throw InputError(source + ": parameter counts do not match the options in the header (damaged file?)");
    const std::size_t p = static_cast<std::size_t>(layout.params), s = static_cast<std::size_t>(layout.stats);
    const std::size_t need = (p + 2 * s) * sizeof(float), left = bytes.size() - r.pos();
    if (left != need)
        throw InputError(source + ": expected " + std::to_string(need) + " bytes of weights, found " + std::to_string(left) +
                         " (truncated or damaged file)");
    // A loaded model only predicts, in chunks of up to 256 cells, whatever batch size it trained with.
    m.net = std::make_unique<Network<float>>(kept, net_options, m.settings.seed,
                                             std::min<Eigen::Index>(m.settings.train.batch_size + 1, 256));
    Network<float>& net = *m.net;
    const char* data = bytes.data() + r.pos();
    if (!v1) {
        const std::string stored = count("crc32");
        if (stored.empty() || bytes.find("\ncrc32 ") != bytes.find('\n'))
            throw InputError(source + ": model header lacks 'crc32' on line 2");
        char actual[16];
        std::snprintf(actual, sizeof actual, "%08" PRIx32, file_crc(bytes.substr(0, r.pos()), std::string_view(data, need)));
        std::string lower;  // hex digits compare in either case
        for (char ch : stored) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (lower != actual)
            throw InputError(source + ": the file does not match its checksum (crc32 " + stored + ", computed " + actual +
                             "): it is damaged or was edited; train again or use another copy");
    }
    std::memcpy(net.params.data(), data, p * sizeof(float));
    std::memcpy(net.running_mean.data(), data + p * sizeof(float), s * sizeof(float));
    std::memcpy(net.running_var.data(), data + (p + s) * sizeof(float), s * sizeof(float));
    if (!net.params.allFinite()) throw InputError(source + ": the model's weights are not finite");
    return m;
}

std::vector<Eigen::Index> match_model_genes(const Model& model, bool model_genes_named, const CountMatrix& data) {
    const auto n = static_cast<std::size_t>(model.prep.n_genes_total);
    const bool data_named = data.genes_named();
    std::vector<Eigen::Index> idx(n);
    if (!(model_genes_named && data_named)) {
        if (static_cast<std::size_t>(data.n_genes()) != n)
            throw InputError("the model was trained on " + std::to_string(n) + " genes, this file has " +
                             std::to_string(data.n_genes()));
        for (std::size_t i = 0; i < n; ++i) idx[i] = static_cast<Eigen::Index>(i);
        return idx;
    }
    idx = match_by_name(model.genes, data.genes);
    for (std::size_t i = 0; i < n; ++i) {
        if (idx[i] >= 0) continue;
        const auto copies = std::count(model.genes.begin(), model.genes.end(), model.genes[i]);
        throw InputError("this file has no gene '" + model.genes[i] + "'" +
                         (copies > 1 ? " as many times as the model (" + std::to_string(copies) + ")" : std::string()) +
                         ", which the model was trained on (" + std::to_string(n) + " genes)");
    }
    return idx;
}

}  // namespace zimpute
