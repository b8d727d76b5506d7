#!/usr/bin/env python3
"""The zimpute network and loss in PyTorch, for the speed comparison in bench/bench.py.

Same preprocessing (library-size factors, log1p, per-gene z-score), same network as zimpute's
defaults (Dense 64-32-64 with BatchNorm and ReLU; heads mu = exp clipped x size factor,
pi = sigmoid, theta = softplus clipped, one per cell and gene), same ZINB loss (non-finite
elements left out), Adam lr 0.01, batch 32, 10% of cells for validation evaluated every epoch. Prints one JSON line: {"sec_per_epoch": [...], ...}.
"""
import argparse, json, math, time

import numpy as np
import torch
import torch.nn as nn

EPS = 1e-10


def read_counts(path):
    with open(path) as f:
        f.readline()
        return np.loadtxt(f, delimiter=",", dtype=np.float32)  # genes x cells


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(42)

    counts = read_counts(args.data).T.copy()  # cells x genes (PyTorch's batch-first layout)
    counts = counts[:, counts.sum(0) > 0]
    total = counts.sum(1)
    sf = total / np.median(total)
    x = np.log1p(counts / sf[:, None])
    x = (x - x.mean(0)) / np.where(x.std(0) > 1e-8, x.std(0), 1.0)
    n = counts.shape[0]
    perm = np.random.default_rng(42).permutation(n)
    val, train = perm[: n // 10], perm[n // 10:]
    X, Y, S = (torch.tensor(a, dtype=torch.float32) for a in (x, counts, sf))

    model = DCA(counts.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=0.01, eps=1e-7)
    times, losses = [], []
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
            opt.step()
        model.eval()
        with torch.no_grad():
            mu, pi, theta = model(X[val], S[val])
            losses.append(float(zinb_loss(Y[val], mu, pi, theta)))
        times.append(time.perf_counter() - t0)
    print(json.dumps({"sec_per_epoch": times, "median": float(np.median(times)), "val_loss": losses,
                      "torch": torch.__version__, "threads": args.threads}))


if __name__ == "__main__":
    main()
