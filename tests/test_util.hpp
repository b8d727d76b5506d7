// Helpers shared by the tests: finite-difference gradients and relative errors (mlpack style),
// and reading a count matrix from text.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <functional>
#include <string>

#include "count_matrix.hpp"

namespace zimpute::test {

/// Central differences of f at x (x is restored afterwards).
inline Eigen::VectorXd numeric_gradient(Eigen::Ref<Eigen::VectorXd> x, const std::function<double()>& f, double h = 1e-6) {
    Eigen::VectorXd g(x.size());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
        const double keep = x(i);
        x(i) = keep + h;
        const double up = f();
        x(i) = keep - h;
        const double down = f();
        x(i) = keep;
        g(i) = (up - down) / (2 * h);
    }
    return g;
}

/// ||a - b|| / ||a + b||, 0 when both are zero.
inline double relative_error(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
    const double den = (a + b).norm();
    return den == 0 ? (a - b).norm() : (a - b).norm() / den;
}

/// read_counts on text named "x.csv" (as error messages then say), genes in rows unless told.
inline CountMatrix read_csv(const std::string& text, bool cells_in_rows = false) {
    ReadOptions o;
    o.source = "x.csv";
    o.cells_in_rows = cells_in_rows;
    return read_counts(text, o);
}

}  // namespace zimpute::test
