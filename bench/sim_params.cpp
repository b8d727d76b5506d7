// bench/quality.py's helper: the simulator's parameters next to its counts, for the bound of a
// perfect model. Calls the same simulate() as `zimpute simulate` (quality.py checks the counts
// agree) and writes float32 matrices, genes x cells in column-major order (cell by cell):
// PREFIX.observed.f32, .truth.f32, .mean.f32 (the Poisson rate of each true count),
// .dropout.f32 (each entry's dropout probability), .base_mean.f32 and .bcv_shape.f32 (the
// Gamma the rate was drawn from: shape, mean), and PREFIX.json (the dropout curve: logistic in
// the log rate with slope dropout_shape and midpoint).
//
//   g++ -O2 -std=c++17 -I core -I /usr/include/eigen3 bench/sim_params.cpp core/simulate.cpp
//   a.out PREFIX GENES CELLS ZERO_FRACTION SEED
#include <cstdio>
#include <cstdlib>
#include <string>

#include "simulate.hpp"

namespace {

void write(const std::string& path, const Eigen::MatrixXf& m) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || std::fwrite(m.data(), sizeof(float), static_cast<std::size_t>(m.size()), f) != static_cast<std::size_t>(m.size()) ||
        std::fclose(f) != 0) {
        std::fprintf(stderr, "sim_params: cannot write %s\n", path.c_str());
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: sim_params PREFIX GENES CELLS ZERO_FRACTION SEED\n");
        return 2;
    }
    zimpute::SimulateOptions o;
    o.genes = std::atoi(argv[2]);
    o.cells = std::atoi(argv[3]);
    o.zero_fraction = std::atof(argv[4]);
    o.seed = std::strtoull(argv[5], nullptr, 10);
    o.keep_parameters = true;
    const zimpute::Simulation s = zimpute::simulate(o);
    const std::string p = argv[1];
    write(p + ".observed.f32", s.observed.counts);
    write(p + ".truth.f32", s.truth.counts);
    write(p + ".mean.f32", s.mean);
    write(p + ".dropout.f32", s.dropout);
    write(p + ".base_mean.f32", s.base_mean);
    write(p + ".bcv_shape.f32", s.bcv_shape);
    std::FILE* f = std::fopen((p + ".json").c_str(), "w");
    if (!f || std::fprintf(f, "{\"dropout_shape\": %.17g, \"midpoint\": %.17g}\n", o.dropout_shape, s.midpoint) < 0 ||
        std::fclose(f) != 0) {
        std::fprintf(stderr, "sim_params: cannot write %s.json\n", p.c_str());
        return 1;
    }
    return 0;
}
