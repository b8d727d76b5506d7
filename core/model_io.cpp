#include "model_io.hpp"

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
        if (d.key != "threads")  // how this machine runs, not part of the model
            h << "option " << d.key << " " << get_option(model.settings, d.key) << "\n";
    h << "genes_total " << model.prep.n_genes_total << "\n";
    h << "genes_named " << (genes_named ? 1 : 0) << "\n";
    h << "kept_genes " << join(model.prep.kept_genes) << "\n";
    h.precision(9);
    h << "size_factor_reference " << model.prep.size_factor_reference << "\n";
    h << "center " << join(model.prep.center) << "\n";
    h << "scale " << join(model.prep.scale) << "\n";
    h << "params " << net.params.size() << "\n";
    h << "stats " << net.running_mean.size() << "\n";
    h << "genes\n";
    for (const auto& g : model.genes) h << g << "\n";
    h << "data\n";
    std::string out = h.str();
    append_floats(out, net.params);
    append_floats(out, net.running_mean);
    append_floats(out, net.running_var);
    return out;
}

Model load_model(std::string_view bytes, const std::string& source, bool* genes_named) {
    std::size_t pos = 0;
    long line_no = 0;
    auto next_line = [&]() -> std::string {
        const std::size_t end = bytes.find('\n', pos);
        if (end == std::string_view::npos)
            throw InputError(source + ": truncated model file (header ends at line " + std::to_string(line_no) + ")");
        std::string l(bytes.substr(pos, end - pos));
        pos = end + 1;
        ++line_no;
        return l;
    };
    auto fail = [&](const std::string& what) { return InputError(source + ": line " + std::to_string(line_no) + ": " + what); };
    if (bytes.substr(0, 14) != "ZIMPUTE-MODEL ")
        throw InputError(source + ": not a zimpute model file (it should start with 'ZIMPUTE-MODEL')");
    const std::string first = next_line();
    if (first != "ZIMPUTE-MODEL " + std::to_string(kModelFormatVersion))
        throw fail("unsupported model format '" + first + "'; this zimpute reads version " +
                   std::to_string(kModelFormatVersion));

    Model m;
    std::unordered_map<std::string, std::string> fields;
    for (;;) {
        const std::string l = next_line();
        if (l == "genes") break;
        const auto sp = l.find(' ');
        if (sp == std::string::npos) throw fail("expected 'key value', found '" + l + "'");
        const std::string key = l.substr(0, sp), value = l.substr(sp + 1);
        if (key == "option") {
            const auto sp2 = value.find(' ');
            try {
                set_option(m.settings, value.substr(0, sp2), sp2 == std::string::npos ? "" : value.substr(sp2 + 1));
            } catch (const std::invalid_argument& e) {
                throw fail(e.what());
            }
        } else {
            fields[key] = value;
        }
    }
    auto field = [&](const char* k) -> const std::string& {
        const auto it = fields.find(k);
        if (it == fields.end()) throw InputError(source + ": model header lacks '" + k + "'");
        return it->second;
    };
    auto numbers = [&](const char* k) {
        std::vector<double> v;
        std::stringstream ss(field(k));
        std::string part;
        while (std::getline(ss, part, ',')) v.push_back(std::stod(part));
        return v;
    };
    try {
        m.prep.options = m.settings.preprocess;
        m.prep.n_genes_total = std::stol(field("genes_total"));
        for (double d : numbers("kept_genes")) m.prep.kept_genes.push_back(static_cast<Eigen::Index>(d));
        m.prep.size_factor_reference = std::stof(field("size_factor_reference"));
        const auto c = numbers("center"), s = numbers("scale");
        m.prep.center = Eigen::Map<const Eigen::VectorXd>(c.data(), static_cast<Eigen::Index>(c.size())).cast<float>();
        m.prep.scale = Eigen::Map<const Eigen::VectorXd>(s.data(), static_cast<Eigen::Index>(s.size())).cast<float>();
        if (genes_named) *genes_named = field("genes_named") == "1";
    } catch (const std::logic_error&) {
        throw InputError(source + ": malformed number in the model header");
    }
    // Everything the header claims is checked against the file itself before anything is
    // allocated from it: a damaged or hostile header must not cause huge allocations or reads
    // outside the data (tests/fuzz/reader_fuzz.cpp).
    const Eigen::Index total = m.prep.n_genes_total;
    const auto kept = static_cast<Eigen::Index>(m.prep.kept_genes.size());
    if (total < 1 || static_cast<std::size_t>(total) > bytes.size() - pos)
        throw InputError(source + ": the header claims " + std::to_string(total) + " genes (damaged file?)");
    for (Eigen::Index k = 0; k < kept; ++k) {
        const Eigen::Index g = m.prep.kept_genes[static_cast<std::size_t>(k)];
        if (g < 0 || g >= total || (k > 0 && g <= m.prep.kept_genes[static_cast<std::size_t>(k - 1)]))
            throw InputError(source + ": invalid kept gene list in the header (damaged file?)");
    }
    const Eigen::Index scale_len = m.settings.preprocess.scale == ScaleMethod::per_gene ? kept : 1;
    if (kept < 1 || m.prep.center.size() != scale_len || m.prep.scale.size() != scale_len)
        throw InputError(source + ": preprocessing parameters do not match the genes (damaged file?)");
    for (Eigen::Index i = 0; i < total; ++i) m.genes.push_back(next_line());
    if (next_line() != "data") throw fail("expected 'data' after the gene names");

    const NetworkOptions net_options = network_options(m.settings);
    const ParamLayout layout(kept, net_options);
    const long p = std::stol(field("params")), s = std::stol(field("stats"));
    if (p != layout.params || s != layout.stats)
        throw InputError(source + ": parameter counts do not match the options in the header (damaged file?)");
    const std::size_t need = static_cast<std::size_t>(p + 2 * s) * sizeof(float);
    if (bytes.size() - pos != need)
        throw InputError(source + ": expected " + std::to_string(need) + " bytes of weights, found " +
                         std::to_string(bytes.size() - pos) + " (truncated or damaged file)");
    // A loaded model only predicts, in chunks of up to 256 cells, whatever batch size it trained with.
    m.net = std::make_unique<Network<float>>(kept, net_options, m.settings.seed,
                                             std::min<Eigen::Index>(m.settings.train.batch_size + 1, 256));
    Network<float>& net = *m.net;
    std::memcpy(net.params.data(), bytes.data() + pos, static_cast<std::size_t>(p) * sizeof(float));
    std::memcpy(net.running_mean.data(), bytes.data() + pos + p * sizeof(float), static_cast<std::size_t>(s) * sizeof(float));
    std::memcpy(net.running_var.data(), bytes.data() + pos + (p + s) * sizeof(float), static_cast<std::size_t>(s) * sizeof(float));
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
    std::unordered_map<std::string, Eigen::Index> pos;
    for (std::size_t i = 0; i < data.genes.size(); ++i) pos.emplace(data.genes[i], static_cast<Eigen::Index>(i));
    for (std::size_t i = 0; i < n; ++i) {
        const auto it = pos.find(model.genes[i]);
        if (it == pos.end())
            throw InputError("this file has no gene '" + model.genes[i] + "', which the model was trained on (" +
                             std::to_string(n) + " genes)");
        idx[i] = it->second;
    }
    return idx;
}

}  // namespace zimpute
