// Session.pictures(): the data of the page's pictures after a run (core/pictures), as plain JS
// arrays and typed arrays copied out of the heap, so the worker can transfer their buffers.
#include <algorithm>

#include "../core/pictures.hpp"
#include "convert.hpp"

namespace zimpute::js {

namespace {

template <typename T>
val typed(const char* type, const T* data, std::size_t n) {
    return val::global(type).new_(emscripten::typed_memory_view(n, data));  // new X(view) copies
}

val row(const Eigen::MatrixXf& m, Eigen::Index r) {
    const std::vector<float> v(m.row(r).begin(), m.row(r).end());
    return floats_to_js(v);
}

}  // namespace

val pictures_to_js(Session& s) {
    const CountMatrix& data = s.data();
    const Pictures p = make_pictures(data.counts, s.imputed(), s.predicted(Output::pi), s.has_truth() ? &s.truth() : nullptr,
                                     data.labels);
    val o = val::object();
    o.set("cells", static_cast<double>(p.map_cells.size()));
    o.set("mapObservedX", row(p.map_observed, 0));
    o.set("mapObservedY", row(p.map_observed, 1));
    o.set("mapImputedX", row(p.map_imputed, 0));
    o.set("mapImputedY", row(p.map_imputed, 1));
    o.set("group", typed("Int32Array", p.group.data(), p.group.size()));
    o.set("groupNames", strings_to_js(p.group_names));
    o.set("groupSource", p.groups_from_labels ? val(data.labels_name) : val::null());  // null: clusters
    std::vector<std::string> genes, cells;
    for (Eigen::Index g : p.heat_genes) genes.push_back(data.genes[static_cast<std::size_t>(g)]);
    for (Eigen::Index c : p.heat_cells) cells.push_back(data.cells[static_cast<std::size_t>(c)]);
    o.set("heatGenes", strings_to_js(genes));
    o.set("heatCells", strings_to_js(cells));
    // Column-major, genes x cells: cell j's genes are [j * genes, (j + 1) * genes).
    o.set("heatObserved", typed("Float32Array", p.heat_observed.data(), static_cast<std::size_t>(p.heat_observed.size())));
    o.set("heatImputed", typed("Float32Array", p.heat_imputed.data(), static_cast<std::size_t>(p.heat_imputed.size())));
    std::vector<int> heat_group;
    for (Eigen::Index c : p.heat_cells) {  // map cells are sorted: find the heat cell's map position
        const auto at = std::lower_bound(p.map_cells.begin(), p.map_cells.end(), c) - p.map_cells.begin();
        heat_group.push_back(p.group[static_cast<std::size_t>(at)]);
    }
    o.set("heatGroup", typed("Int32Array", heat_group.data(), heat_group.size()));
    o.set("truthTrue", s.has_truth() ? floats_to_js(p.truth_true) : val::null());
    o.set("truthImputed", s.has_truth() ? floats_to_js(p.truth_imputed) : val::null());
    val counts = val::object();
    counts.set("entries", p.entries);
    counts.set("zeros", p.zeros);
    counts.set("filled", p.filled);
    counts.set("filledOne", p.filled_one);
    counts.set("unsure", p.unsure);
    if (s.has_truth()) counts.set("trueDropouts", p.true_dropouts);
    o.set("counts", counts);
    return o;
}

}  // namespace zimpute::js
