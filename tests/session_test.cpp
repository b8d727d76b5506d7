// The Session lifecycle that the CLI and the page drive: load data -> [truth] -> train (stepped)
// or load a model -> impute -> outputs; out-of-order calls are refused, new data drops every
// result of the old, and threads are the session's, not the model file's.
#include <doctest/doctest.h>

#include "count_writer.hpp"
#include "session.hpp"
#include "simulate.hpp"

using namespace zimpute;

namespace {

struct Files {
    std::string data, truth;
};

Files small_files() {
    SimulateOptions o;
    o.genes = 120;
    o.cells = 90;
    o.seed = 3;
    const Simulation s = simulate(o);
    return {write_counts(s.observed, s.observed.counts), write_counts(s.truth, s.truth.counts)};
}

ReadOptions named(const std::string& source) {
    ReadOptions r;
    r.source = source;
    return r;
}

Settings quick() {
    Settings s;
    s.train.epochs = 3;
    s.train.threads = 1;
    return s;
}

}  // namespace

TEST_CASE("calls out of order are refused, not undefined") {
    Session s(quick());
    CHECK_THROWS_AS(s.start_training(), std::logic_error);
    CHECK_THROWS_AS(s.load_truth("a\n1\n", named("t.csv")), std::logic_error);
    CHECK_THROWS_AS(s.impute(), std::logic_error);
    CHECK_THROWS_AS(s.data(), std::logic_error);
    const Files f = small_files();
    s.load_data(f.data, named("d.csv"));
    CHECK_THROWS_AS(s.impute(), std::logic_error);  // no model yet
    CHECK_THROWS_AS(s.output("result"), std::logic_error);
    CHECK_THROWS_AS(s.model_bytes(), std::logic_error);
    CHECK_THROWS_AS(s.metrics(), std::logic_error);
}

TEST_CASE("train, impute, write: every output in the data's shape, the report with metrics") {
    const Files f = small_files();
    Session s(quick());
    const CountMatrix& d = s.load_data(f.data, named("d.csv"));
    CHECK(d.n_genes() == 120);
    CHECK(d.n_cells() == 90);
    s.load_truth(f.truth, named("t.csv"));
    Trainer& t = s.start_training();
    while (!t.step(0.01)) {
    }
    CHECK(t.epoch() == 3);
    s.impute();
    REQUIRE(s.has_result());
    CHECK(s.imputed().rows() == 120);
    CHECK(s.imputed().cols() == 90);
    // Imputation only fills zeros under the default rule: observed non-zeros are kept.
    const Eigen::MatrixXf& obs = s.data().counts;
    CHECK(((obs.array() != 0).select(s.imputed().array() - obs.array(), 0.0f) == 0).all());
    const std::string report = s.report_json();
    CHECK(report.find("\"epochs\":3") != std::string::npos);
    CHECK(report.find("\"predict_distance\":") != std::string::npos);
    CHECK(report.find("\"threads\":\"1\"") != std::string::npos);
    // The result re-read has the data's labels and shape.
    const CountMatrix back = read_counts(s.output("result"), named("result.csv"));
    CHECK(back.cells == d.cells);
    CHECK(back.n_genes() == d.n_genes());
    const CountMatrix latent = read_counts(s.output("latent"), named("latent.csv"));
    CHECK(latent.n_cells() == 90);
    CHECK(latent.n_genes() == 32);  // the middle of 64,32,64
}

TEST_CASE("a saved model imputes the same data identically in a new session, on its own threads") {
    const Files f = small_files();
    Session a(quick());
    a.load_data(f.data, named("d.csv"));
    a.start_training().run();
    a.impute();
    const std::string model = a.model_bytes();

    Settings two = quick();
    two.train.threads = 2;
    Session b(two);
    b.load_data(f.data, named("d.csv"));
    b.load_model(model, "m.zim");
    CHECK(b.settings().train.threads == 2);  // the session's choice survives the model's settings
    CHECK(b.settings().train.epochs == 3);   // the rest comes from the model
    b.impute();
    CHECK((b.imputed() - a.imputed()).cwiseAbs().maxCoeff() < 1e-3f);
    CHECK(b.report_json().find("\"threads\":\"2\"") != std::string::npos);
}

TEST_CASE("new data drops the old model, truth and result") {
    const Files f = small_files();
    Session s(quick());
    s.load_data(f.data, named("d.csv"));
    s.load_truth(f.truth, named("t.csv"));
    s.start_training().run();
    s.impute();
    REQUIRE(s.has_model());
    s.load_data(f.data, named("d.csv"));
    CHECK_FALSE(s.has_model());
    CHECK_FALSE(s.has_truth());
    CHECK_FALSE(s.has_result());
    CHECK(s.trainer() == nullptr);
}
