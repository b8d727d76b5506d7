#include "session.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "compressed.hpp"
#include "mtx.hpp"
#include <sstream>

namespace zimpute {
namespace {

// The text itself, or its decompressed copy in `storage` if it is gzip (never a plain copy: the
// text can be as large as the matrix).
std::string_view gunzipped(std::string_view text, const std::string& source, std::string& storage) {
    if (!is_gzip(text)) return text;
    storage = maybe_gunzip(std::string(text), source);
    return storage;
}

// A JSON string literal (gene names are free text).
std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out + '"';
}

}  // namespace

const CountMatrix& Session::load_data(std::string_view text, const ReadOptions& options) {
    std::string inflated;
    return set_data(read_counts(gunzipped(text, options.source, inflated), options));
}

const CountMatrix& Session::load_mtx(std::string_view mtx, std::string_view features, std::string_view barcodes,
                                     const std::string& mtx_name, const std::string& features_name,
                                     const std::string& barcodes_name, const ReadOptions& options) {
    std::string m, f, b;
    return set_data(read_mtx(gunzipped(mtx, mtx_name, m), gunzipped(features, features_name, f),
                             gunzipped(barcodes, barcodes_name, b), mtx_name, features_name, barcodes_name,
                             options.max_entries));
}

const CountMatrix& Session::set_data(CountMatrix m) {
    calibration_.reset();  // it refers to the data
    reset_members();
    data_ = std::move(m);
    truth_.reset();
    model_.reset();
    trainer_.reset();
    prepared_.reset();
    imputed_.reset();
    return *data_;
}

std::vector<std::string> Session::load_truth(std::string_view text, const ReadOptions& options) {
    if (!data_) throw std::logic_error("load the data before the truth");
    ReadOptions o = options;
    o.cells_in_rows = data_->cells_in_rows;  // the truth follows the data's orientation
    o.detect_orientation = false;
    std::string inflated;
    const CountMatrix t = read_counts(gunzipped(text, o.source, inflated), o);
    truth_ = align_truth(*data_, t);
    return t.warnings;
}

void Session::set_truth(Eigen::MatrixXf aligned) {
    if (!data_) throw std::logic_error("load the data before the truth");
    if (aligned.rows() != data_->n_genes() || aligned.cols() != data_->n_cells())
        throw InputError("the truth has " + std::to_string(aligned.rows()) + "x" + std::to_string(aligned.cols()) +
                         " entries, the data " + std::to_string(data_->n_genes()) + "x" +
                         std::to_string(data_->n_cells()));
    truth_ = std::move(aligned);
}

void Session::load_model(std::string_view bytes, const std::string& source) {
    if (!data_) throw std::logic_error("load the data before the model");
    check_modelable(*data_);
    Model m = zimpute::load_model(bytes, source, &model_genes_named_);
    run_on(m, Threads::of_shared_pool(settings_.train.threads));
    gene_map_ = match_model_genes(m, model_genes_named_, *data_);
    trainer_.reset();
    calibration_.reset();
    reset_members();
    prepared_ = std::make_unique<Preprocessed>(apply_preprocess(m.prep, data_->counts, &gene_map_));
    model_ = std::move(m);
    const int threads = settings_.train.threads;  // how this session runs, not the file's
    const bool calibrate = settings_.calibrate;
    settings_ = model_->settings;
    settings_.train.threads = threads;
    settings_.calibrate = calibrate;
    imputed_.reset();
}

Calibration& Session::start_calibration() {
    if (!data_) throw std::logic_error("load the data before calibrating");
    check_modelable(*data_);
    if (!settings_.calibrate) throw std::logic_error("start_calibration without the calibrate setting");
    trainer_.reset();
    model_.reset();
    prepared_.reset();
    imputed_.reset();
    calibration_.reset();
    calibration_ = std::make_unique<Calibration>(*data_, settings_, Threads::of_shared_pool(settings_.train.threads));
    return *calibration_;
}

Trainer& Session::start_training() {
    if (!data_) throw std::logic_error("load the data before training");
    check_modelable(*data_);
    Settings chosen = settings_;
    if (settings_.calibrate) {
        if (!calibration_ || !calibration_->done() || calibration_->cancelled())
            throw std::logic_error("with calibrate, step start_calibration() to its end before training");
        chosen = calibration_->result().settings;
        calibration_->release();  // its masked copy and last candidate are not needed any more
    } else {
        calibration_.reset();  // an earlier calibration says nothing about this training
    }
    trainer_.reset();
    reset_members();
    ensemble_ = chosen.ensemble;
    chosen.ensemble = 1;  // each member is one model
    member_settings_ = chosen;
    model_ = create_model(*data_, chosen);
    if (calibration_) model_->calibration = calibration_->result().json();
    model_genes_named_ = data_->genes_named();
    gene_map_.resize(static_cast<std::size_t>(data_->n_genes()));
    for (std::size_t i = 0; i < gene_map_.size(); ++i) gene_map_[i] = static_cast<Eigen::Index>(i);
    prepared_ = std::make_unique<Preprocessed>(apply_preprocess(model_->prep, data_->counts));
    trainer_ = std::make_unique<Trainer>(*model_, *prepared_, Threads::of_shared_pool(settings_.train.threads));
    imputed_.reset();
    return *trainer_;
}

bool Session::next_member() {
    if (!trainer_ || !trainer_->done() || trainer_->stop_reason() == StopReason::cancelled) return false;
    if (member() + 1 >= ensemble_) return false;
    member_epochs_.push_back(trainer_->epoch());
    member_seconds_ += trainer_->train_seconds();
    trainer_.reset();  // it refers to model_
    members_.push_back(std::move(*model_));
    Settings s = member_settings_;
    s.seed = member_settings_.seed + static_cast<std::uint64_t>(member());
    model_ = create_model(*data_, s);  // the same preprocessing: prepared_ serves every member
    model_->calibration = members_.front().calibration;
    trainer_ = std::make_unique<Trainer>(*model_, *prepared_, Threads::of_shared_pool(settings_.train.threads));
    return true;
}

std::vector<int> Session::member_epochs() const {
    std::vector<int> e = member_epochs_;
    if (trainer_) e.push_back(trainer_->epoch());
    return e;
}

double Session::trained_seconds() const { return member_seconds_ + (trainer_ ? trainer_->train_seconds() : 0.0); }

void Session::reset_members() {
    members_.clear();
    member_epochs_.clear();
    member_seconds_ = 0;
    ensemble_ = 1;
}

std::vector<Model*> Session::averaged() {
    std::vector<Model*> out;
    for (Model& m : members_) out.push_back(&m);
    // A member cancelled before its first epoch ended has hardly trained: left out of the mean.
    const bool unfinished = trainer_ && trainer_->stop_reason() == StopReason::cancelled && trainer_->epoch() == 0;
    if (!(unfinished && !members_.empty())) out.push_back(&*model_);
    return out;
}

void Session::impute() {
    if (!model_ || !prepared_) throw std::logic_error("train or load a model before imputing");
    // Genes the model does not know keep their observed counts.
    imputed_.reset();  // before the copy, so re-imputing never holds two results
    const std::vector<Model*> models = averaged();
    Eigen::MatrixXf out = data_->counts;
    impute_in_place(*models[0], *prepared_, out, models[0]->settings.rule, &gene_map_);
    if (models.size() > 1) {  // the mean of every member's imputed values
        Eigen::MatrixXf one(out.rows(), out.cols());
        for (std::size_t k = 1; k < models.size(); ++k) {
            one = data_->counts;
            impute_in_place(*models[k], *prepared_, one, models[k]->settings.rule, &gene_map_);
            out += one;
        }
        out /= static_cast<float>(models.size());
    }
    imputed_ = std::move(out);
}

Eigen::MatrixXf Session::predicted(Output which) {
    if (!model_ || !prepared_) throw std::logic_error("train or load a model first");
    const auto one = [&](Model& m) {
        return predict_output(m, *prepared_, which, data_->n_genes(), data_->n_cells(), &gene_map_);
    };
    const std::vector<Model*> models = averaged();
    if (models.size() == 1 || which == Output::latent) return one(*models[0]);
    Eigen::MatrixXf sum = one(*models[0]);
    for (std::size_t k = 1; k < models.size(); ++k) sum += one(*models[k]);
    return sum / static_cast<float>(models.size());
}

Prediction Session::prediction() {
    return {predicted(Output::pi), predicted(Output::mu), predicted(Output::theta), predicted(Output::latent)};
}

const CountMatrix& Session::data() const {
    if (!data_) throw std::logic_error("no data loaded");
    return *data_;
}
const Eigen::MatrixXf& Session::imputed() const {
    if (!imputed_) throw std::logic_error("nothing imputed yet");
    return *imputed_;
}
const Eigen::MatrixXf& Session::truth() const {
    if (!truth_) throw std::logic_error("no truth loaded");
    return *truth_;
}
Metrics Session::metrics() const {
    if (!truth_) throw std::logic_error("no truth loaded");
    return compute_metrics(data_->counts, imputed(), *truth_);
}

std::vector<Eigen::Index> Session::imputed_genes() const {
    if (!model_) throw std::logic_error("train or load a model first");
    std::vector<Eigen::Index> rows;
    for (const Eigen::Index k : model_->prep.kept_genes) rows.push_back(gene_map_[static_cast<std::size_t>(k)]);
    std::sort(rows.begin(), rows.end());
    return rows;
}

std::string Session::report_json(bool with_gene_names) const {
    std::ostringstream os;
    os << "\"settings\":{";
    Settings s = model_ ? model_->settings : settings_;
    s.train.threads = settings_.train.threads;  // how this session ran: not part of the model
    s.calibrate = settings_.calibrate;
    if (trainer_) s.ensemble = ensemble_;  // trained here: the models asked for (member_epochs says how many ran)
    bool first = true;
    for (const auto& d : option_docs()) {
        os << (first ? "" : ",") << '"' << d.key << "\":\"" << get_option(s, d.key) << '"';
        first = false;
    }
    os << "}";
    if (calibration_ && calibration_->done() && !calibration_->cancelled() && model_ && !model_->calibration.empty())
        os << ",\"calibration\":" << calibration_->result().json();
    os << ",\"genes\":" << data().n_genes() << ",\"cells\":" << data().n_cells();
    if (model_) {
        const std::vector<Eigen::Index> rows = imputed_genes();
        os << ",\"genes_imputed\":" << rows.size();
        if (with_gene_names && data().genes_named() && static_cast<Eigen::Index>(rows.size()) < data().n_genes()) {
            os << ",\"imputed_genes\":[";
            for (std::size_t i = 0; i < rows.size(); ++i)
                os << (i ? "," : "") << json_string(data().genes[static_cast<std::size_t>(rows[i])]);
            os << "]";
        }
    }
    if (trainer_) {
        const std::vector<int> e = member_epochs();
        os << ",\"epochs\":" << std::accumulate(e.begin(), e.end(), 0) << ",\"stop_reason\":\"" << to_string(trainer_->stop_reason())
           << "\",\"train_seconds\":" << trained_seconds() << ",\"recoveries\":" << trainer_->recoveries();
        if (!members_.empty()) {  // "epochs" is their sum
            os << ",\"member_epochs\":[";
            for (std::size_t k = 0; k < e.size(); ++k) os << (k ? "," : "") << e[k];
            os << "]";
        }
        if (!trainer_->history().empty()) {
            const double l = trainer_->history().back().train_loss, v = trainer_->history().back().val_loss;
            os << ",\"final_train_loss\":" << l;
            if (std::isfinite(v)) os << ",\"final_val_loss\":" << v;
        }
    }
    if (!truth_) return "{" + os.str() + "}";
    return metrics_json(metrics(), os.str());
}

void Session::write_output(const std::string& which, const TextSink& sink) {
    if (which == "result") return write_counts(data(), imputed(), sink);
    if (which == "model") return sink(model_bytes());
    const Output o = parse_output(which);
    if (!imputed_) throw std::logic_error("nothing imputed yet");
    const Eigen::MatrixXf m = predicted(o);
    if (o != Output::latent) return write_counts(data(), m, sink);
    // Latent units take the place of genes, named, in the data's orientation.
    TableLayout layout = data();
    layout.genes.clear();
    for (Eigen::Index k = 0; k < m.rows(); ++k) layout.genes.push_back("Latent" + std::to_string(k + 1));
    layout.has_row_names = true;
    layout.header_has_corner = true;
    layout.has_header = true;  // the units' names, whatever the data had
    layout.corner = layout.cells_in_rows ? "cell" : "latent";
    write_counts(layout, m, sink);
}

std::string Session::output(const std::string& which) {
    std::string text;
    write_output(which, [&](std::string_view chunk) { text.append(chunk); });
    return text;
}

std::string Session::model_bytes() const {
    if (!model_) throw std::logic_error("no model to save");
    if (!members_.empty())
        throw InputError("a model file holds one network and this result averages " + std::to_string(members_.size() + 1) +
                         " (ensemble): train with ensemble 1 to save a model");
    return save_model(*model_, model_genes_named_);
}

}  // namespace zimpute
