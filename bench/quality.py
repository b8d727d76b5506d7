#!/usr/bin/env python3
"""zimpute quality benchmark: masked-nonzero recovery on real count matrices shipped by Debian
packages, and on `zimpute simulate` matrices with their truth (issue 19, item 3).

    /usr/bin/python3 bench/quality.py [--quick] [--jobs 2] [--json bench/quality.json]

Needs: the native CLI built into build-bench/ (`cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release
&& cmake --build build-bench -j2 --target zimpute`; --zimpute names another), g++ and Eigen (the
simulator's parameters, bench/sim_params.cpp), and Debian's python3-numpy python3-pandas
python3-sklearn (with python3-scipy) python3-torch r-cran-seuratobject r-cran-sctransform;
libopenblas0-openmp makes PyTorch and MAGIC several times faster than the reference BLAS.

Protocol, per dataset and seed: 10% of the observed non-zero entries (seeded) are set to 0; the
masked matrix is imputed by each method; scored over the masked matrix's zeros against the truth
(real data: the original counts; simulations: the simulator's counts before dropout), with the
definitions of `zimpute evaluate` (README, "Metrics"):
  zero_distance_ratio  ||truth - imputed|| / ||truth - masked|| over the masked matrix's zeros
  dropout_log_pearson  Pearson r of log1p(truth) and log1p(imputed) where the masked matrix is 0
                       and the truth is not (real data: exactly the masked entries; simulations:
                       the masked entries and the simulator's dropouts)
  masked_log_pearson   the same on the masked entries only (in the JSON)
zimpute's own metrics (--truth) are checked against these on every zimpute run.

Methods: zimpute's defaults, its presets and single-option variants; DCA in PyTorch
(bench/dca_torch.py --dca: DCA's published training, its mean output); MAGIC (numpy/scikit-learn,
see magic()); the masked matrix itself; on simulations two bounds, posterior means of the true
count given what a perfect model would know (and the masking rate):
  each entry's rate known       the Poisson rate each true count was drawn from and its dropout
                                probability (an oracle: no model can know the per-entry draws)
  simulator's parameters known  the cell mean before the BCV draw, the BCV and the dropout curve:
                                the Bayes limit for a model that learned the generative process
Each dataset's runs go 2 at a time (--jobs), each on 1 thread; MAGIC and the bounds run alongside.
"""
import argparse, concurrent.futures as cf, datetime, json, os, platform, shutil, subprocess, sys, time

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "bench", ".cache")
MASK_FRACTION = 0.1

# zimpute rows: name, options.
ZIMPUTE_METHODS = [
    ("zimpute defaults", []),
    ("zimpute --preset dca", ["--preset", "dca"]),
    ("zimpute --preset course", ["--preset", "course"]),
    ("zimpute --dispersion gene", ["--dispersion", "gene"]),
    ("zimpute --learning-rate 0.001", ["--learning-rate", "0.001"]),
    ("zimpute --rule mean", ["--rule", "mean"]),
    ("zimpute --calibrate true", ["--calibrate", "true"]),
    ("zimpute --ensemble 5", ["--ensemble", "5"]),
    ("zimpute --calibrate true --ensemble 5", ["--calibrate", "true", "--ensemble", "5"]),
]
QUICK_ZIMPUTE = {"zimpute defaults", "zimpute --preset dca", "zimpute --calibrate true",
                 "zimpute --calibrate true --ensemble 5"}

# Datasets: (name, kind, spec, seeds in the full run, seeds with --quick (0: left out)).
REAL = [
    ("pbmc_small", "real", "SeuratObject::pbmc_small", 3, 1),
    ("sctransform pbmc", "real", "sctransform::pbmc", 3, 0),
]
SIMS = [  # genes, cells, zero fraction (simulator seed 1)
    ("sim 500 genes x 300 cells, 90% zeros", "sim", (500, 300, 0.9), 3, 1),
    ("sim 1000 genes x 600 cells, 60% zeros", "sim", (1000, 600, 0.6), 2, 0),
    ("sim 1000 genes x 2000 cells, 85% zeros", "sim", (1000, 2000, 0.85), 1, 0),
]


# ---------------------------------------------------------------- files


def read_matrix(path):
    """A genes x cells CSV (header of cell names, optional gene-name column) as
    (genes, cells, float64 matrix)."""
    df = pd.read_csv(path)
    if df.dtypes.iloc[0] == object:
        df = df.set_index(df.columns[0])
        genes = [str(g) for g in df.index]
    else:
        genes = [f"Gene{i + 1}" for i in range(len(df))]
    return genes, [str(c) for c in df.columns], df.to_numpy(dtype=np.float64)


def write_matrix(path, genes, cells, m):
    with open(path + ".tmp", "w") as f:
        f.write("gene," + ",".join(cells) + "\n")
        integer = np.all(m == np.round(m))
        for g, row in zip(genes, m):
            f.write(g + "," + ",".join(str(int(v)) for v in row) if integer else
                    g + "," + ",".join("%.7g" % v for v in row))
            f.write("\n")
    os.replace(path + ".tmp", path)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return p


# ---------------------------------------------------------------- datasets

R_EXPORT = {
    "SeuratObject::pbmc_small":
        'suppressMessages(library(SeuratObject)); data("pbmc_small", package = "SeuratObject"); '
        'm <- as.matrix(GetAssayData(pbmc_small, slot = "counts"))',
    "sctransform::pbmc": 'suppressMessages(library(Matrix)); m <- as.matrix(sctransform::pbmc)',
}
R_PACKAGES = {"SeuratObject::pbmc_small": "r-cran-seuratobject", "sctransform::pbmc": "r-cran-sctransform"}


def real_counts(spec):
    """Exports an R package's count matrix once to the cache (genes in rows, a gene-name column)."""
    path = os.path.join(CACHE, spec.replace("::", "_") + ".csv")
    if not os.path.exists(path):
        if not shutil.which("Rscript"):
            raise RuntimeError(f"{spec}: Rscript missing (apt-get install {R_PACKAGES[spec]})")
        script = (R_EXPORT[spec] + '; df <- data.frame(gene = rownames(m), m, check.names = FALSE); '
                  f'write.table(df, "{path}.tmp", sep = ",", quote = FALSE, row.names = FALSE)')
        try:
            run(["Rscript", "-e", script])
        except RuntimeError as e:
            raise RuntimeError(f"{spec}: export failed (apt-get install {R_PACKAGES[spec]})\n{e}")
        os.replace(path + ".tmp", path)
    genes, cells, m = read_matrix(path)
    return {"genes": genes, "cells": cells, "observed": m, "truth": m}


def sim_params_binary():
    exe = os.path.join(CACHE, "sim_params")
    src = [os.path.join(ROOT, "bench", "sim_params.cpp"), os.path.join(ROOT, "core", "simulate.cpp")]
    deps = src + [os.path.join(ROOT, "core", "simulate.hpp")]
    if not os.path.exists(exe) or any(os.path.getmtime(s) > os.path.getmtime(exe) for s in deps):
        run(["g++", "-O2", "-std=c++17", "-I", os.path.join(ROOT, "core"), "-I", "/usr/include/eigen3"] + src +
            ["-o", exe])
    return exe


def simulated(zimpute, genes, cells, zero_fraction, seed=1):
    """`zimpute simulate` counts and truth, and the simulator's true means and dropout
    probabilities (bench/sim_params.cpp, the same simulate(); the counts are checked equal)."""
    d = os.path.join(CACHE, f"sim_{genes}x{cells}_{zero_fraction}_{seed}")
    os.makedirs(d, exist_ok=True)
    data, truth = os.path.join(d, "data.csv"), os.path.join(d, "truth.csv")
    args = ["--genes", str(genes), "--cells", str(cells), "--zero-fraction", str(zero_fraction), "--seed", str(seed)]
    if not os.path.exists(truth):
        run([zimpute, "simulate", "--out", data, "--truth-out", truth] + args)
    prefix = os.path.join(d, "params")
    run([sim_params_binary(), prefix, str(genes), str(cells), str(zero_fraction), str(seed)])
    load = lambda part: np.fromfile(f"{prefix}.{part}.f32", dtype=np.float32).reshape(cells, genes).T.astype(np.float64)
    _, names, observed = read_matrix(data)
    _, _, t = read_matrix(truth)
    if not (np.array_equal(load("observed"), observed) and np.array_equal(load("truth"), t)):
        raise RuntimeError("bench/sim_params.cpp and `zimpute simulate` disagree: rebuild build-bench")
    with open(prefix + ".json") as f:
        curve = json.load(f)
    return {"genes": [f"Gene{i + 1}" for i in range(genes)], "cells": names, "observed": observed, "truth": t,
            "mean": load("mean"), "dropout": load("dropout"), "base_mean": load("base_mean"),
            "bcv_shape": load("bcv_shape"), **curve}


def mask(observed, seed):
    """A copy with MASK_FRACTION of the non-zero entries set to 0 (seeded), and the mask."""
    rng = np.random.default_rng(1000 + seed)
    nz = np.flatnonzero(observed)
    pick = rng.choice(nz, size=int(round(MASK_FRACTION * len(nz))), replace=False)
    masked = observed.copy()
    masked.flat[pick] = 0
    where = np.zeros(observed.shape, dtype=bool)
    where.flat[pick] = True
    return masked, where


# ---------------------------------------------------------------- scores


def pearson(a, b):
    if len(a) < 2 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def score(masked, imputed, truth, where):
    zeros = masked == 0
    diff = (truth - imputed)[zeros]
    ratio = float(np.sqrt(np.sum(diff ** 2) / np.sum(truth[zeros] ** 2)))
    drop = zeros & (truth != 0)
    log_t, log_i = np.log1p(truth), np.log1p(np.maximum(imputed, 0))
    return {"zero_distance_ratio": ratio, "dropout_log_pearson": pearson(log_t[drop], log_i[drop]),
            "masked_log_pearson": pearson(log_t[where], log_i[where])}


# ---------------------------------------------------------------- methods


def magic(counts, knn=5, knn_max=15, decay=1.0, t=3, n_pca=100, thresh=1e-4, seed=0):
    """MAGIC (van Dijk et al. 2018) with the defaults of its Python package (exact solver), in
    numpy: library sizes normalized to the median and sqrt; PCA to 100 components (fewer when the
    matrix is smaller); an adaptive kernel exp(-(d / eps_i)^decay), eps_i the distance to the
    knn-th neighbour counting the cell itself (graphtools' convention), at most knn_max neighbours
    per cell, entries below thresh dropped, symmetrized (K + K^T) / 2; the row-stochastic operator
    P applied t times to the sqrt data; then squared and scaled back to each cell's library
    size (counts)."""
    from sklearn.decomposition import PCA
    x = counts.T  # cells x genes
    lib = x.sum(1)
    lib = np.where(lib > 0, lib, 1.0)
    target = np.median(lib)
    s = np.sqrt(x / lib[:, None] * target)
    k = min(n_pca, min(s.shape) - 1)
    y = PCA(n_components=k, svd_solver="randomized", random_state=seed).fit_transform(s)
    sq = np.sum(y ** 2, 1)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * y @ y.T, 0))
    order = np.argsort(d, 1)
    eps = np.take_along_axis(d, order[:, knn - 1: knn], 1)
    kern = np.exp(-np.power(d / np.maximum(eps, 1e-12), decay))
    keep = np.zeros_like(kern, dtype=bool)
    np.put_along_axis(keep, order[:, :knn_max], True, 1)
    kern = np.where(keep & (kern >= thresh), kern, 0.0)
    kern = (kern + kern.T) / 2
    p = kern / kern.sum(1, keepdims=True)
    z = s
    for _ in range(t):
        z = p @ z
    return (z ** 2 / target * lib[:, None]).T


def perfect_model(masked, mean, dropout, mask_rate):
    """Posterior mean of the true count given the true mean (Poisson rate) and the dropout
    probability: an observed zero comes from a true zero or from a true non-zero that dropped out
    or was masked (probability p' = p + (1 - p) * mask_rate); non-zeros are kept."""
    p = dropout + (1 - dropout) * mask_rate
    p0 = np.exp(-mean)
    post = p * mean / (p0 + p * (1 - p0))
    return np.where(masked == 0, post, masked)


def gamma_quantiles(nodes=128):
    """Quantiles of Gamma(a, 1) at the midpoints of `nodes` equal-probability bins, for log10 a
    on a grid from -4 to 5 (interpolated between)."""
    from scipy.special import gammaincinv
    log_a = np.linspace(-4, 5, 901)
    u = (np.arange(nodes) + 0.5) / nodes
    return log_a, gammaincinv(10 ** log_a[:, None], u[None, :])


def parameter_model(masked, base_mean, bcv_shape, dropout_shape, midpoint, mask_rate, chunk=20000):
    """Posterior mean of the true count given the simulator's parameters but not its per-entry
    draws: the rate is Gamma(a, a / base_mean) (a = bcv_shape), the count Poisson(rate), the
    dropout probability logistic(log rate; dropout_shape, midpoint), masking as in perfect_model.
    E[count | observed 0] = E[rate p'] / E[exp(-rate) + p' (1 - exp(-rate))], the expectations
    over the Gamma by equal-probability quadrature (E[rate p'] = q base_mean + (1 - q) E[rate p],
    and rate p, p, exp(-rate) are bounded, so the quadrature's tails cost little)."""
    log_a, table = gamma_quantiles()
    out = masked.astype(np.float64).copy()
    idx = np.flatnonzero(masked == 0)
    q = mask_rate
    for start in range(0, len(idx), chunk):
        k = idx[start: start + chunk]
        m, a = base_mean.flat[k].astype(np.float64), bcv_shape.flat[k].astype(np.float64)
        pos = np.clip((np.log10(a) - log_a[0]) / (log_a[1] - log_a[0]), 0, len(log_a) - 1.000001)
        lo = pos.astype(int)
        w = (pos - lo)[:, None]
        quant = (1 - w) * table[lo] + w * table[lo + 1]          # Gamma(a, 1) quantiles
        rate = quant * (m / a)[:, None]                         # Gamma(a, a / m)
        p = 1 / (1 + np.exp(-dropout_shape * (np.log(np.maximum(rate, 1e-300)) - midpoint)))
        e = np.exp(-rate)
        e_exp = np.power(a / (a + m), a)                         # E[exp(-rate)], exactly
        num = q * m + (1 - q) * np.mean(rate * p, 1)
        den = q + (1 - q) * (e_exp + np.mean(p, 1) - np.mean(p * e, 1))
        out.flat[k] = num / den
    return out


def zimpute_job(zimpute, options, data, truth, out, seed):
    metrics = out + ".metrics.json"
    t0 = time.perf_counter()
    p = run([zimpute, "impute", "--data", data, "--out", out, "--truth", truth, "--metrics", metrics,
             "--seed", str(seed), "--threads", "1", "--quiet"] + options)
    secs = time.perf_counter() - t0
    summary = json.loads(p.stdout.strip().splitlines()[-1].split(" ", 1)[1])
    with open(metrics) as f:
        own = json.load(f)
    out = {"seconds": secs, "epochs": summary.get("epochs"), "own": own}
    if "calibration" in summary:  # what self-calibration chose, and how long it took
        chosen = summary["calibration"]["chosen"]
        out["chosen"] = f"{chosen['candidate']} training, {chosen['rule']} rule"
        out["calibration_seconds"] = summary["calibration_seconds"]
    return out


def torch_job(python, data, out, seed):
    t0 = time.perf_counter()
    p = run([python, os.path.join(ROOT, "bench", "dca_torch.py"), "--data", data, "--out", out, "--dca",
             "--epochs", "300", "--threads", "1", "--seed", str(seed)])
    secs = time.perf_counter() - t0
    return {"seconds": secs, "epochs": json.loads(p.stdout)["epochs"]}


# ---------------------------------------------------------------- driver


def evaluate_dataset(name, ds, seeds, zimpute, python, pool, quick, log, only_methods=None, peers=True):
    genes, cells, observed, truth = ds["genes"], ds["cells"], ds["observed"], ds["truth"]
    rows = {}

    def add(method, seed, scores, extra=None):
        r = rows.setdefault(method, [])
        r.append(dict(seed=seed, **scores, **(extra or {})))

    methods = [(n, o) for n, o in ZIMPUTE_METHODS if not quick or n in QUICK_ZIMPUTE]
    if only_methods:
        methods = [(n, o) for n, o in methods if any(t in n for t in only_methods.split(","))]
    for seed in seeds:
        d = os.path.join(CACHE, "quality", name.replace(" ", "_").replace(",", "").replace("%", "pct"), str(seed))
        os.makedirs(d, exist_ok=True)
        masked, where = mask(observed, seed)
        data, truth_path = os.path.join(d, "masked.csv"), os.path.join(d, "truth.csv")
        write_matrix(data, genes, cells, masked)
        write_matrix(truth_path, genes, cells, truth)
        jobs = {}
        for method, options in methods:
            out = os.path.join(d, method.replace(" ", "_").replace("-", "") + ".csv")
            jobs[pool.submit(zimpute_job, zimpute, options, data, truth_path, out, seed)] = (method, out)
        if peers:
            out = os.path.join(d, "dca_torch.csv")
            jobs[pool.submit(torch_job, python, data, out, seed)] = ("DCA (PyTorch)", out)

        # In this thread while the pool works.
        add("observed (masked)", seed, score(masked, masked, truth, where))
        if peers:
            t0 = time.perf_counter()
            imp = magic(masked, seed=seed)
            add("MAGIC (numpy)", seed, score(masked, imp, truth, where), {"seconds": time.perf_counter() - t0})
        if "mean" in ds:
            rate = where.sum() / np.count_nonzero(observed)
            add(ORACLE, seed, score(masked, perfect_model(masked, ds["mean"], ds["dropout"], rate), truth, where))
            imp = parameter_model(masked, ds["base_mean"], ds["bcv_shape"], ds["dropout_shape"], ds["midpoint"], rate)
            add(PARAMETERS, seed, score(masked, imp, truth, where))
        for fut in cf.as_completed(jobs):
            method, out = jobs[fut]
            extra = fut.result()
            _, _, imp = read_matrix(out)
            s = score(masked, imp, truth, where)
            own = extra.pop("own", None)
            if own is not None:  # zimpute's own metrics against ours (the result file is %.7g)
                for k in ("zero_distance_ratio", "dropout_log_pearson"):
                    if abs(own[k] - s[k]) > 1e-4 * max(1.0, abs(s[k])):
                        raise RuntimeError(f"{name} {method}: zimpute's {k} {own[k]} != {s[k]}")
            add(method, seed, s, extra)
            os.remove(out)
            log(f"  {name} seed {seed}: {method}: ratio {s['zero_distance_ratio']:.3f}, "
                f"log-r {s['dropout_log_pearson']:.3f}, {extra['seconds']:.0f} s, {extra.get('epochs')} epochs")
    return rows


def summary(values):
    v = [x for x in values if x is not None and np.isfinite(x)]
    if not v:
        return None
    return {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v))}


ORACLE = "bound: each entry's rate known"
PARAMETERS = "bound: simulator's parameters known"
ORDER = ["zimpute defaults", "zimpute --preset dca", "zimpute --preset course", "zimpute --dispersion gene",
         "zimpute --learning-rate 0.001", "zimpute --rule mean", "zimpute --calibrate true", "zimpute --ensemble 5",
         "zimpute --calibrate true --ensemble 5", "DCA (PyTorch)", "MAGIC (numpy)",
         "observed (masked)", PARAMETERS, ORACLE]


def fmt(s, digits=2):
    if s is None:
        return "-"
    if s["max"] - s["min"] < 0.5 * 10 ** -digits:
        return f"{s['mean']:.{digits}f}"
    return f"{s['mean']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def markdown(result):
    lines = []
    for name, ds in result["datasets"].items():
        shape = "" if name.startswith("sim") else f"{ds['genes']} genes x {ds['cells']} cells, "
        lines.append(f"**{name}** ({ds['source']}): {shape}{100 * ds['zero_fraction']:.0f}% zeros, "
                     f"{ds['masked']} entries masked, seeds {', '.join(map(str, ds['seeds']))}, "
                     f"{ds['seconds'] / 60:.1f} minutes")
        lines.append("")
        lines.append("| method | zero_distance_ratio | dropout log-r | masked log-r | s per run | epochs |")
        lines.append("|---|---|---|---|---|---|")
        for m in ORDER:
            if m not in ds["methods"]:
                continue
            r = ds["methods"][m]
            secs = fmt(r["seconds"], 1) if r.get("seconds") else "-"
            epochs = fmt(r["epochs"], 0) if r.get("epochs") else "-"
            lines.append(f"| {m} | {fmt(r['zero_distance_ratio'])} | {fmt(r['dropout_log_pearson'])} | "
                         f"{fmt(r['masked_log_pearson'])} | {secs} | {epochs} |")
        lines.append("")
    return "\n".join(lines)


def rounded(x):
    """Floats to 4 decimals, for a small JSON file; NaN (no correlation) as null."""
    if isinstance(x, float):
        return round(x, 4) if np.isfinite(x) else None
    if isinstance(x, dict):
        return {k: rounded(v) for k, v in x.items()}
    if isinstance(x, list):
        return [rounded(v) for v in x]
    return x


def write_json(path, result):
    """Indented down to the methods; each method (summaries and runs) on one line."""
    r = rounded(result)
    one = lambda v: json.dumps(v, separators=(", ", ": "))
    lines = ["{"]
    for k, v in r.items():
        if k != "datasets":
            lines.append(f" {one(k)}: {one(v)},")
    lines.append(' "datasets": {')
    for i, (name, ds) in enumerate(r["datasets"].items()):
        lines.append(f"  {one(name)}: {{")
        for k, v in ds.items():
            if k != "methods":
                lines.append(f"   {one(k)}: {one(v)},")
        lines.append('   "methods": {')
        methods = list(ds["methods"].items())
        for j, (m, v) in enumerate(methods):
            lines.append(f"    {one(m)}: {one(v)}" + ("," if j + 1 < len(methods) else ""))
        lines.append("   }")
        lines.append("  }" + ("," if i + 1 < len(r["datasets"]) else ""))
    lines.append(" }")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == r
    with open(path, "w") as f:
        f.write(text)


def report(result):
    print(f"{result['date']}, {result['machine']}, commit {result['commit']}, `{result['command']}`, "
          f"{result['seconds'] / 60:.1f} minutes\n")
    print(markdown(result))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="pbmc_small and the 500 x 300 simulation, one seed, "
                    "zimpute's defaults and DCA preset only (~2 minutes)")
    ap.add_argument("--jobs", type=int, default=2, help="training runs at once (each on 1 thread)")
    ap.add_argument("--zimpute", default=os.path.join(ROOT, "build-bench", "zimpute"))
    ap.add_argument("--json", help="write the results here (default: bench/quality.json, or "
                    "bench/.cache/quality-quick.json with --quick)")
    ap.add_argument("--only", help="datasets whose name contains this text")
    ap.add_argument("--methods", help="only the zimpute methods whose name contains one of these comma-separated texts")
    ap.add_argument("--no-peers", action="store_true", help="leave out DCA (PyTorch) and MAGIC")
    ap.add_argument("--commit", help="the commit --zimpute was built from, for the record (default: this "
                    "tree's HEAD, marked +uncommitted when tracked files have changes)")
    ap.add_argument("--report", metavar="JSON", help="print the tables of an earlier run's JSON and stop")
    args = ap.parse_args()
    if args.report:
        with open(args.report) as f:
            return report(json.load(f))
    if not os.path.exists(args.zimpute):
        sys.exit(f"missing {args.zimpute}: build it first (see the docstring)")
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    os.makedirs(CACHE, exist_ok=True)
    started = time.perf_counter()
    log = lambda msg: print(msg, file=sys.stderr, flush=True)

    commit = run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.strip()
    dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    if args.commit:
        commit, dirty = args.commit, ""
    result = {"date": datetime.date.today().isoformat(), "commit": commit + ("+uncommitted" if dirty else ""),
              "command": " ".join(["python3", "bench/quality.py"] + sys.argv[1:]),
              "machine": f"{os.cpu_count()} cores, {cpu}, {platform.platform()}",
              "mask_fraction": MASK_FRACTION, "datasets": {}}
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, kind, spec, full_seeds, quick_seeds in REAL + SIMS:
            n = quick_seeds if args.quick else full_seeds
            if n == 0 or (args.only and args.only not in name):
                continue
            t0 = time.perf_counter()
            log(f"{name} ...")
            if kind == "real":
                ds = real_counts(spec)
                source = f"{spec} (Debian {R_PACKAGES[spec]})"
            else:
                ds = simulated(args.zimpute, *spec)
                source = f"zimpute simulate --genes {spec[0]} --cells {spec[1]} --zero-fraction {spec[2]} --seed 1"
            seeds = list(range(1, n + 1))
            rows = evaluate_dataset(name, ds, seeds, args.zimpute, python, pool, args.quick, log, args.methods,
                                    not args.no_peers)
            obs = ds["observed"]
            result["datasets"][name] = {
                "source": source, "genes": obs.shape[0], "cells": obs.shape[1],
                "zero_fraction": float(np.mean(obs == 0)),
                "masked": int(round(MASK_FRACTION * np.count_nonzero(obs))), "seeds": seeds,
                "seconds": time.perf_counter() - t0,
                "methods": {m: {k: summary([r.get(k) for r in runs])
                                for k in ("zero_distance_ratio", "dropout_log_pearson", "masked_log_pearson",
                                          "seconds", "epochs")} | {"runs": runs}
                            for m, runs in rows.items()}}
    result["seconds"] = time.perf_counter() - started
    out = args.json or (os.path.join(CACHE, "quality-quick.json") if args.quick else
                        os.path.join(ROOT, "bench", "quality.json"))
    write_json(out, result)
    report(result)


if __name__ == "__main__":
    main()
