// Zero-inflated negative binomial negative log-likelihood with analytic gradients.
//
// Per element, with eps = 1e-10 and theta capped at 1e6 as in DCA and the course report:
//   NB(y; mu, theta)  = lgamma(theta+eps) + lgamma(y+1) - lgamma(y+theta+eps)
//                       + (theta+y) log(1 + mu/(theta+eps)) + y (log(theta+eps) - log(mu+eps))
//   y > 0 (y >= 1e-8): L = NB - log(1 - pi + eps)
//   y = 0:             L = -log(pi + (1-pi) (theta/(theta+mu+eps))^theta + eps)
//   plus ridge * pi^2.  The NB variant drops pi (and the zero case) entirely.
// The comment beside each gradient below gives its closed form; tests/zinb_loss_test.cpp checks
// every one against finite differences in double.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <stdexcept>
#include <string>

#include "special.hpp"

namespace zimpute {

enum class LossKind {
    zinb_original,  ///< DCA / the course report's "old" loss: every element counts, a NaN propagates
    zinb_guarded,   ///< the course report's "new" loss: elements with a non-finite value are left out of the mean
    nb              ///< negative binomial without zero inflation
};

struct LossOptions {
    LossKind kind = LossKind::zinb_guarded;
    double ridge = 0.0;  ///< DCA's ridge penalty on pi (lambda * pi^2 per element)
};

LossKind parse_loss_kind(const std::string& s);
std::string to_string(LossKind k);

constexpr double kLossEps = 1e-10;
constexpr double kThetaMax = 1e6;

/// The parts of the loss that depend on theta alone. With one theta per gene they are computed
/// once per gene instead of once per element, which halves the cost of the loss pass.
template <typename T>
struct ThetaTerms {
    T theta;         ///< min(theta, 1e6)
    T scale;         ///< 1, or 0 when the cap is active (no gradient through min)
    T lg, dg;        ///< lgamma(theta + eps), digamma(theta + eps)
    T log_te;        ///< log(theta + eps)
};

template <typename T>
inline ThetaTerms<T> theta_terms(T theta) {
    ThetaTerms<T> t;
    t.scale = theta > T(kThetaMax) ? T(0) : T(1);
    t.theta = theta > T(kThetaMax) ? T(kThetaMax) : theta;
    const T te = t.theta + T(kLossEps);
    lgamma_digamma(te, t.lg, t.dg);
    t.log_te = std::log(te);
    return t;
}

/// Loss of one element and its partial derivatives, given theta's terms. `lgy1` is
/// lgamma(y + 1), precomputed once per dataset because y never changes. Returns the loss.
template <typename T>
inline T zinb_element(T y, T pi, T mu, const ThetaTerms<T>& tt, T lgy1, LossKind kind, T ridge, T& dpi, T& dmu,
                      T& dtheta) {
    const T eps = T(kLossEps);
    const T theta = tt.theta;
    const T te = theta + eps;
    const T tme = te + mu;  // theta + mu + eps
    T loss;
    if (kind == LossKind::nb || y >= T(1e-8)) {
        T lg_ty, dg_ty;
        lgamma_digamma(y + te, lg_ty, dg_ty);
        const T log_ratio = std::log(tme / te);  // log(1 + mu/(theta+eps))
        loss = tt.lg + lgy1 - lg_ty + (theta + y) * log_ratio + y * (tt.log_te - std::log(mu + eps));
        // d/dmu: (theta+y)/(theta+eps+mu) - y/(mu+eps)
        dmu = (theta + y) / tme - y / (mu + eps);
        // d/dtheta: psi(t) - psi(y+t) + log(1+mu/t) - (theta+y) mu / (t (t+mu)) + y/t,  t = theta+eps
        dtheta = tt.scale * (tt.dg - dg_ty + log_ratio - (theta + y) * mu / (te * tme) + y / te);
        if (kind == LossKind::nb) {
            dpi = T(0);
            return loss;
        }
        // -log(1 - pi + eps): d/dpi = 1/(1 - pi + eps)
        loss -= std::log(T(1) - pi + eps);
        dpi = T(1) / (T(1) - pi + eps);
    } else {
        // z = (theta/(theta+mu+eps))^theta, D = pi + (1-pi) z + eps, L = -log D
        const T log_base = std::log(theta / tme);
        const T z = std::exp(theta * log_base);
        const T d = pi + (T(1) - pi) * z + eps;
        loss = -std::log(d);
        dpi = -(T(1) - z) / d;
        const T dz = -(T(1) - pi) / d;
        // dz/dmu = -z theta / (theta+mu+eps);  dz/dtheta = z (log(theta/(theta+mu+eps)) + 1 - theta/(theta+mu+eps))
        dmu = dz * (-z * theta / tme);
        dtheta = tt.scale * dz * z * (log_base + T(1) - theta / tme);
    }
    if (ridge != T(0)) {
        loss += ridge * pi * pi;
        dpi += T(2) * ridge * pi;
    }
    return loss;
}

/// The same with theta given directly (its terms computed here).
template <typename T>
inline T zinb_element(T y, T pi, T mu, T theta, T lgy1, LossKind kind, T ridge, T& dpi, T& dmu, T& dtheta) {
    return zinb_element<T>(y, pi, mu, theta_terms(theta), lgy1, kind, ridge, dpi, dmu, dtheta);
}

/// Mean loss over matrices of equal shape with gradients of that mean (each scaled by 1/count).
/// For zinb_guarded, elements whose loss or gradient is not finite are excluded from the mean
/// and get zero gradient; `used` reports how many counted. pi is ignored for LossKind::nb.
template <typename Derived>
double zinb_loss(const Eigen::MatrixBase<Derived>& y, const Eigen::MatrixBase<Derived>& pi,
                 const Eigen::MatrixBase<Derived>& mu, const Eigen::MatrixBase<Derived>& theta,
                 const LossOptions& options, Eigen::MatrixBase<Derived>& dpi, Eigen::MatrixBase<Derived>& dmu,
                 Eigen::MatrixBase<Derived>& dtheta, Eigen::Index* used = nullptr) {
    using T = typename Derived::Scalar;
    double total = 0;
    Eigen::Index count = 0;
    for (Eigen::Index j = 0; j < y.cols(); ++j)
        for (Eigen::Index i = 0; i < y.rows(); ++i) {
            T gp, gm, gt;
            const T l = zinb_element<T>(y(i, j), pi(i, j), mu(i, j), theta(i, j), std::lgamma(y(i, j) + T(1)),
                                        options.kind, T(options.ridge), gp, gm, gt);
            if (options.kind == LossKind::zinb_guarded && !(std::isfinite(l) && std::isfinite(gp) &&
                                                            std::isfinite(gm) && std::isfinite(gt))) {
                dpi(i, j) = dmu(i, j) = dtheta(i, j) = T(0);
                continue;
            }
            total += static_cast<double>(l);
            ++count;
            dpi(i, j) = gp;
            dmu(i, j) = gm;
            dtheta(i, j) = gt;
        }
    if (used) *used = count;
    if (count == 0) return std::nan("");
    const T inv = T(1) / T(count);
    dpi *= inv;
    dmu *= inv;
    dtheta *= inv;
    return total / static_cast<double>(count);
}

}  // namespace zimpute
