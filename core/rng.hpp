// Deterministic random numbers shared by every build.
//
// Why not <random>: std::normal_distribution, std::gamma_distribution and std::shuffle are
// implementation-defined, so libstdc++ (native) and libc++ (Emscripten) would give different
// splits, initial weights and simulated data for the same seed. Everything here is specified
// exactly, so a seed means the same run in the CLI, in Node and in the browser.
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace zimpute {

/// xoshiro256** seeded through splitmix64 (Blackman & Vigna).
class Rng {
public:
    explicit Rng(std::uint64_t seed = 42) {
        std::uint64_t x = seed;
        for (auto& s : state_) s = splitmix(x);
    }

    std::uint64_t next() {
        const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const std::uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /// Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    /// Uniform integer in [0, n) by scaling a 53-bit uniform: the bias is below n / 2^53,
    /// irrelevant for the cell counts shuffled here.
    std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * static_cast<double>(n)); }

    /// Standard normal by the Box-Muller transform (one value per call; simple and exact).
    double normal() {
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }

    /// Gamma(shape, rate) by Marsaglia & Tsang (2000); shape < 1 through the boost u^(1/shape).
    double gamma(double shape, double rate) {
        if (shape < 1.0) {
            double u = uniform();
            while (u <= 0.0) u = uniform();
            return gamma(shape + 1.0, rate) * std::pow(u, 1.0 / shape);
        }
        const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
        for (;;) {
            double x, v;
            do {
                x = normal();
                v = 1.0 + c * x;
            } while (v <= 0.0);
            v = v * v * v;
            const double u = uniform();
            if (u < 1.0 - 0.0331 * x * x * x * x) return d * v / rate;
            if (u > 0.0 && std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v / rate;
        }
    }

    /// Poisson(lambda): multiplication method for small lambda, PTRS (Hoermann 1993) above 10.
    std::uint64_t poisson(double lambda) {
        if (!(lambda > 0.0)) return 0;
        if (lambda < 10.0) {
            const double limit = std::exp(-lambda);
            double p = uniform();
            std::uint64_t k = 0;
            while (p > limit) {
                ++k;
                p *= uniform();
            }
            return k;
        }
        const double slam = std::sqrt(lambda), loglam = std::log(lambda);
        const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
        const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2.0);
        for (;;) {
            const double u = uniform() - 0.5, v = uniform();
            const double us = 0.5 - std::fabs(u);
            const double k = std::floor((2.0 * a / us + b) * u + lambda + 0.43);
            if (us >= 0.07 && v <= vr) return static_cast<std::uint64_t>(k);
            if (k < 0.0 || (us < 0.013 && v > us)) continue;
            if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
                -lambda + k * loglam - std::lgamma(k + 1.0))
                return static_cast<std::uint64_t>(k);
        }
    }

    /// Fisher-Yates shuffle with this generator (std::shuffle's order is library-specific).
    template <typename T>
    void shuffle(std::vector<T>& v) {
        for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
    }

private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static std::uint64_t splitmix(std::uint64_t& x) {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::uint64_t state_[4];
};

}  // namespace zimpute
