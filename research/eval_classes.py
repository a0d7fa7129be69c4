#!/usr/bin/python3
"""eval_classes.py — which classes an image suite's errors come from.

`lmdd eval` scores images without looking at their class; this reads its
`scores-<suite>.csv` back with the datasets' label files and prints, for
each class of each side, the AUROC of that class against the whole other
side and its median score. It diagnoses a result (e.g. MNIST "1"s are thin
strokes that inpaint easily and pass as Fashion-MNIST); it chooses nothing,
so no default is tuned on these labels (docs/evaluation.md, the sweep).
AUROC is the Mann-Whitney statistic with ties counted 1/2, as
eval/eval_metrics.c computes it.

Usage: /usr/bin/python3 research/eval_classes.py [RESULTS_DIR] [--fmnist-data DIR] [--mnist-data DIR]
Needs numpy; reads the idx label files (gzip or plain).
"""
import argparse
import csv
import gzip
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ped2_framediff import auroc  # noqa: E402  (Mann-Whitney, ties 1/2)

FMNIST = ["T-shirt", "trouser", "pullover", "dress", "coat",
          "sandal", "shirt", "sneaker", "bag", "ankle boot"]
DIGITS = [str(d) for d in range(10)]
# set name in scores-*.csv -> (data option, label file, class names)
SETS = {"fashion-mnist-test": ("fmnist", "t10k-labels-idx1-ubyte", FMNIST),
        "mnist-test": ("mnist", "t10k-labels-idx1-ubyte", DIGITS)}


def labels(folder, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with (gzip.open if name.endswith(".gz") else open)(path, "rb") as f:
                raw = f.read()
            if raw[:4] != b"\0\0\x08\x01":
                sys.exit(f"error: {path}: not an idx label file (magic {raw[:4].hex()})")
            return np.frombuffer(raw[8:], np.uint8)
    sys.exit(f"error: no {stem}[.gz] in {folder}")


def auc(neg, pos):
    """AUROC of scores pos (label 1) against neg (label 0)."""
    return auroc(np.r_[np.zeros(len(neg)), np.ones(len(pos))], np.r_[neg, pos])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", nargs="?", default="docs/results")
    ap.add_argument("--fmnist-data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--mnist-data", default=os.path.join(
        os.environ.get("LMDD_DATA") or "../shared/data", "mnist"),
        help="MNIST test set folder (default $LMDD_DATA/mnist; LMDD_DATA defaults to ../shared/data)")
    a = ap.parse_args()
    found = False
    for suite in ("fmnist-mnist", "mnist-fmnist"):
        path = os.path.join(a.results, f"scores-{suite}.csv")
        if not os.path.exists(path):
            continue
        found = True
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        side = {0: [], 1: []}
        for r in rows:
            side[int(r["label"])].append((r["set"], int(r["item"]), float(r["score"])))
        score = {k: np.array([s for _, _, s in v]) for k, v in side.items()}
        print(f"{suite} ({path}): AUROC {auc(score[0], score[1]):.4f}, "
              f"{len(score[0])} in / {len(score[1])} out")
        for lab, what in ((0, "in"), (1, "out")):
            name = side[lab][0][0]
            if name not in SETS:
                sys.exit(f"error: {path}: unknown set '{name}'")
            opt, stem, names = SETS[name]
            lab_all, items = labels(getattr(a, opt + "_data"), stem), [i for _, i, _ in side[lab]]
            if max(items) >= len(lab_all):
                sys.exit(f"error: {path}: {name} item {max(items)} past the {len(lab_all)} labels")
            cls = lab_all[items]
            other = score[1 - lab]
            print(f"  {what} ({name}) class: n, AUROC of this class vs all {'out' if lab == 0 else 'in'}, median score")
            for c, cname in enumerate(names):
                m = cls == c
                if not m.any():
                    continue
                au = auc(score[0][m], other) if lab == 0 else auc(other, score[1][m])
                print(f"    {cname:>10} {m.sum():5d}  {au:.4f}  {np.median(score[lab][m]):.5f}")
    if not found:
        sys.exit(f"error: no scores-fmnist-mnist.csv or scores-mnist-fmnist.csv in {a.results}")


if __name__ == "__main__":
    main()
