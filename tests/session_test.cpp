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

namespace {

// A session trained to the end (every ensemble member) on `f`, imputed.
void train_all(Session& s) {
    s.start_training();
    do {
        s.trainer()->run();
    } while (s.next_member());
    s.impute();
}

}  // namespace

TEST_CASE("an ensemble averages what its members, trained alone with seeds seed, seed + 1, ..., impute") {
    const Files f = small_files();
    Settings e = quick();
    e.ensemble = 3;
    e.seed = 5;
    Session s(e);
    s.load_data(f.data, named("d.csv"));
    train_all(s);
    CHECK(s.members() == 3);
    CHECK(s.member() == 2);
    CHECK(s.member_epochs() == std::vector<int>{3, 3, 3});
    Eigen::MatrixXf sum = Eigen::MatrixXf::Zero(120, 90), mu = sum, latent;
    for (int k = 0; k < 3; ++k) {
        Settings one = quick();
        one.seed = 5 + static_cast<std::uint64_t>(k);
        Session alone(one);
        alone.load_data(f.data, named("d.csv"));
        train_all(alone);
        sum += alone.imputed();
        mu += alone.predicted(Output::mu);
        if (k == 0) latent = alone.predicted(Output::latent);
    }
    CHECK((s.imputed() - sum / 3.0f).cwiseAbs().maxCoeff() <= 1e-4f * (1.0f + sum.cwiseAbs().maxCoeff()));
    CHECK((s.predicted(Output::mu) - mu / 3.0f).cwiseAbs().maxCoeff() <= 1e-4f * (1.0f + mu.cwiseAbs().maxCoeff()));
    CHECK(s.predicted(Output::latent) == latent);  // the first member's
    const std::string report = s.report_json();
    CHECK(report.find("\"ensemble\":\"3\"") != std::string::npos);
    CHECK(report.find("\"epochs\":9") != std::string::npos);
    CHECK(report.find("\"member_epochs\":[3,3,3]") != std::string::npos);
    CHECK_THROWS_AS(s.model_bytes(), InputError);  // a model file holds one network
}

TEST_CASE("an ensemble cancelled in a member stops there and imputes with the members it has") {
    const Files f = small_files();
    Settings e = quick();
    e.ensemble = 3;
    e.train.epochs = 50;
    Session s(e);
    s.load_data(f.data, named("d.csv"));
    s.start_training().run();
    REQUIRE(s.next_member());
    s.trainer()->step(0.0);
    s.trainer()->cancel();
    s.trainer()->run();
    CHECK(s.trainer()->stop_reason() == StopReason::cancelled);
    CHECK_FALSE(s.next_member());
    CHECK(s.member() == 1);
    s.impute();
    CHECK(s.imputed().allFinite());
    // The member cancelled before its first epoch ended is left out: the first member's result.
    Settings one = e;
    one.ensemble = 1;
    Session alone(one);
    alone.load_data(f.data, named("d.csv"));
    alone.start_training().run();
    alone.impute();
    CHECK(s.imputed() == alone.imputed());
    // New data drops the members.
    s.load_data(f.data, named("d.csv"));
    CHECK(s.member() == 0);
    CHECK(s.members() == 1);
}

TEST_CASE("finite in, finite out: counts up to the model's limit give finite outputs; beyond it, an error first") {
    std::string csv = "gene,c1,c2,c3,c4\n";
    for (int g = 0; g < 30; ++g)
        csv += "g" + std::to_string(g) + "," + std::to_string(g % 3) + "," + std::to_string(g % 5) + ",0," +
               (g == 7 ? "1000000000" : std::to_string(g % 4)) + "\n";
    Session s(quick());
    s.load_data(csv, named("big.csv"));
    s.start_training().run();
    s.impute();
    CHECK(s.imputed().allFinite());
    for (const Output o : {Output::pi, Output::mu, Output::theta}) CHECK(s.predicted(o).allFinite());
    Session t(quick());
    t.load_data("gene,c1,c2\ng1,1,2\ng2,3,2e9\n", named("huge.csv"));
    CHECK_THROWS_WITH_AS(t.start_training(),
                         "gene 'g2', cell 'c2': a count of 2e+09 is more than zimpute can model (at most 1e9 an entry); is this a matrix of counts?",
                         InputError);
}

TEST_CASE("a size factor beyond float range is refused naming the cell (tiny non-integer values, one large cell)") {
    std::string csv = "gene,c1,c2,c3\n";
    for (int g = 0; g < 6; ++g) csv += "g" + std::to_string(g) + ",1e-30,2e-30," + (g == 0 ? "1000" : "0") + "\n";
    Session s(quick());
    s.settings().preprocess.min_gene_counts = 0;  // keep the genes of tiny totals
    s.load_data(csv, named("tiny.csv"));
    CHECK_THROWS_WITH_AS(s.start_training(),
                         "cell 3: its size factor (library over the median) is more than 1e30, beyond what zimpute can model; is this a matrix of counts?",
                         InputError);
}
