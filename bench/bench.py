#!/usr/bin/env python3
"""zimpute speed benchmark: native CLI, WebAssembly in Node, and PyTorch (if installed), on one
simulated matrix, in one invocation.

    python3 bench/bench.py [--epochs 10] [--cells 2000] [--genes 1000]

Builds nothing: run `cmake -S . -B build && cmake --build build` and `bash wasm/build.sh` first.
Reports, per implementation: median seconds per epoch (training + validation of one epoch),
CSV parse time, peak resident memory, and the ratio to PyTorch. PyTorch: `apt-get install
python3-torch libopenblas0-openmp`.
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCH = re.compile(r"^epoch \d+/\d+ .* ([0-9.]+) s(  \[.*\])?$")


def timed(cmd):
    """Runs cmd under GNU time; returns (stdout, stderr, peak RSS in MB)."""
    p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    rss = int(re.search(r"MAXRSS (\d+)", p.stderr).group(1)) / 1024
    return p.stdout, p.stderr, rss


def zimpute_run(cmd, data, out, epochs, threads, converge=False):
    """Fixed epochs with early stopping off, or (converge) the defaults: up to 300 epochs with
    early stopping, reporting the whole training time."""
    run = ["impute", "--data", data, "--out", out, "--threads", str(threads)]
    run += [] if converge else ["--epochs", str(epochs), "--patience", "1000"]
    stdout, stderr, rss = timed(cmd + run)
    result = json.loads(stdout.strip().splitlines()[-1].split(" ", 1)[1])
    per_epoch = [float(m.group(1)) for m in map(EPOCH.match, stderr.splitlines()) if m]
    # The first epochs include the wasm engine's tier-up from its baseline compiler: the median
    # is the steady state.
    return {"median": statistics.median(per_epoch), "parse": result["parse_seconds"], "rss": rss,
            "heap": result.get("wasm_heap_mb"), "epochs": result.get("epochs"), "train": result.get("train_seconds")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--cells", type=int, default=2000)
    ap.add_argument("--genes", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2, help="threads of the multi-threaded rows")
    ap.add_argument("--converge", action="store_true",
                    help="train with the defaults (early stopping, at most 300 epochs) and report total time")
    args = ap.parse_args()
    native = os.path.join(ROOT, "build", "zimpute")
    node_entry = os.path.join(ROOT, "wasm", "zimpute-node.mjs")
    for f in (native, os.path.join(ROOT, "web", "zimpute.js")):
        if not os.path.exists(f):
            sys.exit(f"missing {f}: build first (see the docstring)")
    tmp = tempfile.mkdtemp(prefix="zimpute-bench-")
    data, out = os.path.join(tmp, "data.csv"), os.path.join(tmp, "out.csv")
    subprocess.run([native, "simulate", "--out", data, "--genes", str(args.genes), "--cells", str(args.cells)],
                   check=True, capture_output=True)
    input_mb = args.genes * args.cells * 4 / 2**20

    node = ["node", "--no-experimental-fetch", node_entry]
    t = args.threads
    rows = [("native (1 thread)", zimpute_run([native], data, out, args.epochs, 1, args.converge)),
            (f"native ({t} threads)", zimpute_run([native], data, out, args.epochs, t, args.converge)),
            ("wasm in Node (1 thread)", zimpute_run(node, data, out, args.epochs, 1, args.converge)),
            (f"wasm in Node ({t} threads)", zimpute_run(node, data, out, args.epochs, t, args.converge))]
    torch_median = None
    try:
        if args.converge:
            raise SystemExit("not with --converge (fixed epochs only)")
        # Debian's python3-torch lives with Debian's interpreter, which may not be the python3 on PATH.
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        stdout, _, rss = timed([python, os.path.join(ROOT, "bench", "dca_torch.py"), "--data", data,
                                "--epochs", str(args.epochs)])
        t = json.loads(stdout)
        torch_median = t["median"]
        rows.append((f"PyTorch {t['torch']} ({t['threads']} threads)", {"median": torch_median, "parse": None, "rss": rss}))
    except SystemExit as e:
        print(f"(PyTorch run skipped: {str(e).splitlines()[-1]})", file=sys.stderr)

    what = "early stopping, at most 300 epochs" if args.converge else f"{args.epochs} epochs"
    print(f"{args.cells} cells x {args.genes} genes, {what}; dense float input {input_mb:.1f} MB "
          f"(memory target 3x + 64 = {3 * input_mb + 64:.0f} MB)")
    print("| implementation | median s/epoch | epochs | train s | CSV parse s | peak RSS MB | wasm heap MB | PyTorch time / this |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in rows:
        ratio = f"{torch_median / r['median']:.2f}x" if torch_median else "-"
        parse = f"{r['parse']:.3f}" if r["parse"] is not None else "-"
        heap = f"{r['heap']:.0f}" if r.get("heap") else "-"
        epochs = r.get("epochs") or args.epochs
        train = f"{r['train']:.1f}" if r.get("train") else "-"
        print(f"| {name} | {r['median']:.3f} | {epochs} | {train} | {parse} | {r['rss']:.0f} | {heap} | {ratio} |")


if __name__ == "__main__":
    main()
