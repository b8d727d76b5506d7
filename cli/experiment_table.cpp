#include "experiment_table.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace zimpute {

namespace {

std::string cell(double v, int precision) {
    if (!std::isfinite(v)) return "-";
    std::ostringstream os;
    os.precision(precision);
    os << std::fixed << v;
    return os.str();
}

std::string markdown_row(const ExperimentRow& r, bool best) {
    const Metrics& m = r.metrics;
    std::ostringstream os;
    os << "| " << (best ? "**" + r.name + " (best)**" : r.name) << " | " << m.zero_num << " | " << m.true_dropout_num
       << " | " << m.predict_dropout_num << " | " << cell(m.recall, 4) << " | " << cell(m.precision, 4) << " | "
       << cell(m.predict_distance, 1) << " | " << cell(m.origin_distance, 1) << " | " << cell(m.distance_ratio, 4)
       << " | " << r.epochs << " |\n";
    return os.str();
}

std::string csv_row(const ExperimentRow& r, bool best) {
    const Metrics& m = r.metrics;
    std::ostringstream os;
    os << '"' << r.name << "\"," << m.zero_num << ',' << m.true_dropout_num << ',' << m.predict_dropout_num << ','
       << cell(m.recall, 6) << ',' << cell(m.precision, 6) << ',' << cell(m.predict_distance, 3) << ','
       << cell(m.origin_distance, 3) << ',' << cell(m.distance_ratio, 6) << ',' << r.epochs << ','
       << (best ? "yes" : "no") << '\n';
    return os.str();
}

std::string table(const Experiment& e, std::string header, std::string (*row)(const ExperimentRow&, bool)) {
    const int b = e.best();
    for (std::size_t k = 0; k < e.rows().size(); ++k) header += row(e.rows()[k], static_cast<int>(k) == b);
    return header;
}

}  // namespace

std::string experiment_table(const Experiment& e, const std::string& format) {
    if (format == "md" || format == "markdown")
        return table(e,
                     "| model | zero count | true dropouts | predicted dropouts | recall | precision | predict distance | "
                     "origin distance | predict / origin | epochs |\n|---|---|---|---|---|---|---|---|---|---|\n",
                     markdown_row);
    if (format == "csv")
        return table(e,
                     "model,zero_num,true_dropout_num,predict_dropout_num,recall,precision,predict_distance,"
                     "origin_distance,distance_ratio,epochs,best\n",
                     csv_row);
    throw std::invalid_argument("table format must be md or csv, not '" + format + "'");
}

}  // namespace zimpute
