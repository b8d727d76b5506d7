#!/usr/bin/env python3
"""The zimpute network and loss in PyTorch, for the speed comparison in bench/bench.py and, with
--dca and --out, as DCA's reference imputation in bench/quality.py.

Same preprocessing (library-size factors, log1p, per-gene z-score), same network as zimpute's
defaults (Dense 64-32-64 with BatchNorm and ReLU; heads mu = exp clipped x size factor,
pi = sigmoid, theta = softplus clipped, one per cell and gene), same ZINB loss (non-finite
elements left out), Adam lr 0.01, batch 32, 10% of cells for validation evaluated every epoch. Prints one JSON line: {"sec_per_epoch": [...], ...}.

Without options it trains a fixed number of epochs (the speed comparison). Options:
  --converge       early stopping (patience 15 on the validation loss) and the learning rate cut
                   10x after 10 epochs without improvement, at most --epochs epochs
  --dca            DCA's published training (Eraslan et al. 2019, dca 0.3): RMSprop lr 0.001
                   (rho 0.9, eps 1e-7), gradients clipped to [-5, 5], Glorot-uniform weights,
                   --converge, and, as Keras' EarlyStopping does, the last epoch's weights kept
                   (without --dca the best epoch's weights are restored)
  --out F          write the imputation, genes x cells, in the input's layout (gene-name column
                   kept); genes without counts are written as 0. --rule mean (DCA's output) or
                   posterior (zimpute's rule: an observed zero becomes P(dropout | 0) * mu,
                   non-zeros are kept)
  --seed, --lr, --optimizer adam|rmsprop
"""
import argparse, copy, json, math, os, time

import numpy as np
import torch
import torch.nn as nn

EPS = 1e-10


def read_table(path):
    """Genes x cells CSV with a header of cell names and an optional gene-name column: returns
    (header line, gene names or None, counts as float32)."""
    with open(path) as f:
        header = f.readline().rstrip("\n")
        rows = [line.rstrip("\n").split(",") for line in f if line.strip()]
    try:
        float(rows[0][0])
        names = None
    except ValueError:
        names = [r[0] for r in rows]
        rows = [r[1:] for r in rows]
    return header, names, np.array(rows, dtype=np.float32)


def read_counts(path):
    return read_table(path)[2]  # genes x cells


class DCA(nn.Module):
    def __init__(self, genes, hidden=(64, 32, 64)):
        super().__init__()
        layers, width = [], genes
        for h in hidden:
            layers += [nn.Linear(width, h), nn.BatchNorm1d(h, eps=1e-3, momentum=0.01), nn.ReLU()]
            width = h
        self.body = nn.Sequential(*layers)
        self.heads = nn.Linear(width, 3 * genes)
        self.genes = genes

    def forward(self, x, sf):
        h = self.heads(self.body(x))
        mu = torch.clamp(torch.exp(h[:, : self.genes]), 1e-5, 1e6) * sf[:, None]
        pi = torch.sigmoid(h[:, self.genes: 2 * self.genes])
        theta = torch.clamp(nn.functional.softplus(h[:, 2 * self.genes:]), 1e-4, 1e4)
        return mu, pi, theta


def zinb_loss(y, mu, pi, theta):
    theta = torch.clamp(theta, max=1e6)
    t1 = torch.lgamma(theta + EPS) + torch.lgamma(y + 1.0) - torch.lgamma(y + theta + EPS)
    t2 = (theta + y) * torch.log(1.0 + mu / (theta + EPS)) + y * (torch.log(theta + EPS) - torch.log(mu + EPS))
    nb = t1 + t2 - torch.log(1.0 - pi + EPS)
    zero_nb = torch.pow(theta / (theta + mu + EPS), theta)
    zero = -torch.log(pi + (1.0 - pi) * zero_nb + EPS)
    loss = torch.where(y < 1e-8, zero, nb)
    finite = torch.isfinite(loss)
    return loss[finite].mean()


def write_table(path, header, names, values):
    """values genes x cells, written like the input (%.7g, integers without decimals)."""
    with open(path + ".tmp", "w") as f:
        f.write(header + "\n")
        for i, row in enumerate(values):
            cells = ",".join("%.7g" % v for v in row)
            f.write((names[i] + "," if names is not None else "") + cells + "\n")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--converge", action="store_true")
    ap.add_argument("--dca", action="store_true")
    ap.add_argument("--lr", type=float)
    ap.add_argument("--optimizer", choices=["adam", "rmsprop"])
    ap.add_argument("--out")
    ap.add_argument("--rule", choices=["mean", "posterior"], default="mean")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    converge = args.converge or args.dca
    optimizer = args.optimizer or ("rmsprop" if args.dca else "adam")
    lr = args.lr or (0.001 if args.dca else 0.01)

    header, names, table = read_table(args.data)
    counts = table.T.copy()  # cells x genes (PyTorch's batch-first layout)
    kept = counts.sum(0) > 0
    counts = counts[:, kept]
    total = counts.sum(1)
    sf = total / np.median(total)
    x = np.log1p(counts / sf[:, None])
    x = (x - x.mean(0)) / np.where(x.std(0) > 1e-8, x.std(0), 1.0)
    n = counts.shape[0]
    perm = np.random.default_rng(args.seed).permutation(n)
    val, train = perm[: n // 10], perm[n // 10:]
    X, Y, S = (torch.tensor(a, dtype=torch.float32) for a in (x, counts, sf))

    model = DCA(counts.shape[1])
    if args.dca:  # Keras' glorot_uniform weights, zero biases
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)
    else:  # Keras' RMSprop: rho 0.9, epsilon 1e-7
        opt = torch.optim.RMSprop(model.parameters(), lr=lr, alpha=0.9, eps=1e-7)
    times, losses = [], []
    best, best_state, since_best, since_cut = math.inf, None, 0, 0
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        order = torch.tensor(np.random.permutation(train))
        for start in range(0, len(order), 32):
            idx = order[start: start + 32]
            if len(idx) < 2:
                continue
            mu, pi, theta = model(X[idx], S[idx])
            loss = zinb_loss(Y[idx], mu, pi, theta)
            opt.zero_grad()
            loss.backward()
            if args.dca:
                torch.nn.utils.clip_grad_value_(model.parameters(), 5.0)
            opt.step()
        model.eval()
        with torch.no_grad():
            mu, pi, theta = model(X[val], S[val])
            losses.append(float(zinb_loss(Y[val], mu, pi, theta)))
        times.append(time.perf_counter() - t0)
        if not converge:
            continue
        # Keras' EarlyStopping / ReduceLROnPlateau: an epoch improves on the best by any amount.
        if losses[-1] < best:
            best, since_best, since_cut = losses[-1], 0, 0
            if not args.dca:
                best_state = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
            since_cut += 1
            if since_cut >= 10:
                for g in opt.param_groups:
                    g["lr"] *= 0.1
                since_cut = 0
            if since_best >= 15:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    if args.out:
        model.eval()
        with torch.no_grad():
            mu, pi, theta = (t.numpy().astype(np.float64) for t in model(X, S))
        if args.rule == "mean":
            imputed = mu
        else:
            y = counts.astype(np.float64)
            nb0 = np.exp(theta * (np.log(theta) - np.log(theta + mu)))
            drop = pi / (pi + (1 - pi) * nb0)
            imputed = np.where(y == 0, drop * mu, y)
        full = np.zeros((len(kept), n))
        full[kept] = imputed.T
        write_table(args.out, header, names, full)
    print(json.dumps({"sec_per_epoch": times, "median": float(np.median(times)), "val_loss": losses,
                      "epochs": len(times), "train_seconds": float(np.sum(times)),
                      "torch": torch.__version__, "threads": args.threads}))


if __name__ == "__main__":
    main()
