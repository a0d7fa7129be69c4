#!/usr/bin/env python3
"""plot_eval.py — the figures of `lmdd eval` (eval/eval.c calls it last).

    plot_eval.py RESULTS_DIR

Reads what `lmdd eval` wrote into RESULTS_DIR and writes PNGs next to it:
  roc.png                ROC curve of every evaluated suite (Ped2: global
                         score scale and per-clip min-max normalised, and
                         the no-model motion-speed baseline when scored)
  ped2-timelines.png     per Ped2 test clip: score per frame, ground-truth
                         anomalous frames shaded, the calibrated threshold
                         (from the model's .calib.json) when there is one,
                         and the baseline's speed on a right-hand axis
  sweep.png              AUROC (95% CI) vs NFE per image for the sweep and,
                         when the sweep has them, each setting's paired
                         difference to the base (the rule's reading)
  examples-<suite>.png   example images: input, reconstruction (first
                         attempt) and per-pixel distance map, with the score

Design facts: only numpy + matplotlib (Agg backend, no display); every
number comes from the files (scores-*.csv, summary-*.json, sweep-*.json,
examples-*.csv, examples/*.pgm|ppm|pfm), nothing is recomputed by a model.
Exit status 3 = matplotlib is missing (the caller reports it), 0 = done.
"""
import csv
import json
import os
import sys

try:
    import numpy as np
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError as e:  # the caller turns exit 3 into "no matplotlib"
    print(f"plot_eval.py: {e}", file=sys.stderr)
    sys.exit(3)

SUITES = ["fmnist-mnist", "mnist-fmnist", "ped2"]


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def roc(score, label):
    """(fpr, tpr) at every distinct threshold, ties moving together."""
    order = np.argsort(-score, kind="mergesort")
    s, y = score[order], label[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]  # end of each run of ties
    tp = np.cumsum(y)[last]
    fp = np.cumsum(1 - y)[last]
    P, N = max(y.sum(), 1), max((1 - y).sum(), 1)
    return np.r_[0, fp / N], np.r_[0, tp / P]


def step_note(summary):
    m = summary.get("model", {})
    st = m.get("training_steps")
    return f"step {st:.0f}" if isinstance(st, (int, float)) else "untrained/unknown"


def plot_roc(out, sums):
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for suite, j in sums.items():
        rows = read_csv(os.path.join(out, j["scores_csv"]))
        y = np.array([int(r["label"]) for r in rows], float)
        cols = [("score", "global scale" if suite == "ped2" else "")]
        if suite == "ped2":
            cols.append(("score_clip_minmax", "per-clip min-max"))
        for col, what in cols:
            s = np.array([float(r[col]) for r in rows])
            f, t = roc(s, y)
            key = "metrics_clip_minmax" if col == "score_clip_minmax" else "metrics"
            a = j[key]["auroc"]
            lab = f"{suite}{' ' + what if what else ''}: AUROC {a:.4f} ({step_note(j)}, {j['nfe']} NFE)"
            ax.plot(f, t, lw=1.5, ls="--" if col == "score_clip_minmax" else "-", label=lab)
        b = j.get("motion_speed")
        if b and rows and "speed" in rows[0]:
            sel = [r for r in rows if r["speed"] != ""]
            f, t = roc(np.array([float(r["speed"]) for r in sel]), np.array([int(r["label"]) for r in sel], float))
            ax.plot(f, t, lw=1.2, ls=":", color="0.3",
                    label=f"{suite} no model, motion speed: AUROC {b['metrics']['auroc']:.4f}")
    ax.plot([0, 1], [0, 1], color="0.7", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC (label 1 = out-of-distribution / anomalous)")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "roc.png"), dpi=110)
    plt.close(fig)


def spans(frames, labels):
    """[(start, end)] frame ranges (end exclusive) where labels == 1."""
    out, start = [], None
    for k, l in zip(frames, labels):
        if l == 1 and start is None:
            start = k
        if l != 1 and start is not None:
            out.append((start, k))
            start = None
    if start is not None:
        out.append((start, frames[-1] + 1))
    return out


def plot_timelines(out, j):
    rows = read_csv(os.path.join(out, j["scores_csv"]))
    clips = sorted({r["clip"] for r in rows})
    gt = {}
    lpath = j.get("labels_csv")
    if lpath and os.path.exists(lpath):
        for r in read_csv(lpath):
            gt.setdefault(r["clip"], []).append((int(r["frame"]), int(r["anomalous"])))
    thr = j.get("threshold")
    n = len(clips)
    ncol = 3
    nrow = (n + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(12, 2.2 * nrow), squeeze=False)
    smin = min(float(r["score"]) for r in rows)
    smax = max(float(r["score"]) for r in rows)
    if thr:
        smax = max(smax, thr["value"])
    vmax = 0.0  # the no-model baseline's speed, one scale for every clip
    if rows and "speed" in rows[0]:
        vmax = max([float(r["speed"]) for r in rows if r["speed"] != ""] or [0.0])
    for i, c in enumerate(clips):
        ax = axes[i // ncol][i % ncol]
        cr = [r for r in rows if r["clip"] == c]
        fr = np.array([int(r["frame"]) for r in cr])
        sc = np.array([float(r["score"]) for r in cr])
        g = sorted(gt.get(c, [])) or sorted((int(r["frame"]), int(r["label"])) for r in cr)
        for a, b in spans([k for k, _ in g], [l for _, l in g]):
            ax.axvspan(a - 0.5, b - 0.5, color="tab:red", alpha=0.15, lw=0)
        ax.plot(fr, sc, ".-", ms=3, lw=0.8, color="tab:blue")
        if vmax > 0:
            sp = [(int(r["frame"]), float(r["speed"])) for r in cr if r["speed"] != ""]
            tw = ax.twinx()
            tw.plot([k for k, _ in sp], [v for _, v in sp], lw=0.7, color="0.45")
            tw.set_ylim(0, 1.05 * vmax)
            tw.tick_params(labelsize=6, colors="0.45")
        if thr:
            ax.axhline(thr["value"], color="k", ls="--", lw=0.8)
        ax.set_ylim(smin - 0.05 * (smax - smin), smax + 0.05 * (smax - smin) + 1e-12)
        ax.set_title(f"clip {c}", fontsize=8)
        ax.tick_params(labelsize=7)
    for k in range(n, nrow * ncol):
        axes[k // ncol][k % ncol].axis("off")
    note = "shaded: ground-truth anomalous frames; one global score scale"
    if thr:
        note += f"; dashed: calibrated threshold {thr['value']:.4g}"
        if not thr.get("params_match", False):
            note += " (calibrated under other sampler parameters)"
    else:
        note += "; no calibration file, no threshold"
    if vmax > 0:
        note += "; grey (right axis): speed, no model"
    fig.suptitle(f"UCSD Ped2 score per frame ({step_note(j)}, {j['nfe']} NFE)\n{note}", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "ped2-timelines.png"), dpi=100)
    plt.close(fig)


def sweep_points(ax, pts, key, color, label):
    """pts [(x, sweep row)]: the rows' metrics[key] with their key_lo..key_hi
    as error bars, each labelled with its value but the base (drawn as a line)."""
    if not pts:
        return
    m = [r["metrics"] for _, r in pts]
    y = [v[key] for v in m]
    lo = [v[key] - (v[key] if v.get(key + "_lo") is None else v[key + "_lo"]) for v in m]
    hi = [(v[key] if v.get(key + "_hi") is None else v[key + "_hi"]) - v[key] for v in m]
    ax.errorbar([x for x, _ in pts], y, yerr=[lo, hi], fmt="o", ms=4, capsize=2, color=color, label=label,
                alpha=0.85)
    for (x, r), yy in zip(pts, y):
        if not r.get("is_base"):
            ax.annotate(r["value"], (x, yy), fontsize=6, xytext=(3, 3), textcoords="offset points")


def plot_sweep(out, sweeps):
    """top row: AUROC (unpaired 95% CI) against NFE; a second row, when the
    sweep has paired differences (d_auroc), AUROC minus the base's with its
    paired CI: what the decision rule reads (docs/evaluation.md)."""
    paired = any(r["metrics"].get("d_auroc") is not None for sw in sweeps.values() for r in sw["rows"])
    nrow = 2 if paired else 1
    fig, axes = plt.subplots(nrow, len(sweeps), figsize=(5.5 * len(sweeps), 4.5 * nrow), squeeze=False)
    for col, (suite, sw) in enumerate(sweeps.items()):
        ax, axd = axes[0][col], (axes[1][col] if paired else None)
        factors = []
        for r in sw["rows"]:
            if r["factor"] not in factors and r["factor"] != "base":
                factors.append(r["factor"])
        cmap = plt.get_cmap("tab10")
        for k, fac in enumerate(factors):
            rs = [r for r in sw["rows"] if r["factor"] == fac and r["metrics"].get("auroc") is not None]
            # factors share NFE values (most settings cost 20): spread them a little sideways
            pts = [(r["nfe"] * (1 + 0.035 * (k - (len(factors) - 1) / 2)), r) for r in rs]
            sweep_points(ax, pts, "auroc", cmap(k % 10), fac)
            if axd is not None:
                sweep_points(axd, [(x, r) for x, r in pts if r["metrics"].get("d_auroc") is not None],
                             "d_auroc", cmap(k % 10), fac)
        base = [r for r in sw["rows"] if r["factor"] == "base"]
        if base and base[0]["metrics"].get("auroc") is not None:
            ax.axhline(base[0]["metrics"]["auroc"], color="0.5", ls=":", lw=0.8, label="base")
        for a in ([ax, axd] if axd is not None else [ax]):
            a.axvline(100, color="tab:red", ls="--", lw=0.8, label="100 NFE budget")
            a.set_xscale("log")
            a.set_xlabel("NFE per image (log; points spread sideways by factor)")
        ax.set_ylabel("AUROC (unpaired 95% CI)")
        ax.set_title(f"sweep {suite} ({step_note(sw)})", fontsize=9)
        ax.legend(fontsize=7)
        if axd is not None:
            axd.axhline(0, color="0.5", ls=":", lw=0.8)
            axd.set_ylabel("AUROC minus base (paired 95% CI)")
            axd.set_title(f"{suite}: above 0 better, below worse, across 0 no difference shown", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "sweep.png"), dpi=110)
    plt.close(fig)


def read_pnm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts, pos = [], 0
    while len(parts) < 4:  # magic, width, height, maxval (no comments: we wrote it)
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        parts.append(data[pos:end])
        pos = end
    pos += 1
    w, h = int(parts[1]), int(parts[2])
    c = 3 if parts[0] == b"P6" else 1
    a = np.frombuffer(data, np.uint8, count=w * h * c, offset=pos).reshape(h, w, c)
    return a[:, :, 0] if c == 1 else a


def read_pfm(path):
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n", 3)
    w, h = (int(v) for v in lines[1].split())
    scale = float(lines[2])
    a = np.frombuffer(lines[3], "<f4" if scale < 0 else ">f4", count=w * h).reshape(h, w)
    return a[::-1]


def plot_examples(out, suite, rows):
    n = len(rows)
    fig, axes = plt.subplots(n, 3, figsize=(7.5, 2.3 * n + 0.4), squeeze=False)
    for i, r in enumerate(rows):
        base = os.path.join(out, "examples", r["name"])
        img = read_pnm(f"{base}.image.{r['ext']}")
        rec = read_pnm(f"{base}.recon.{r['ext']}")
        dm = read_pfm(f"{base}.map.pfm")
        gray = dict(cmap="gray", vmin=0, vmax=255) if img.ndim == 2 else {}
        cl = "anomalous/out" if r["label"] == "1" else "normal/in"
        where = f"clip index {r['group']}, frame {r['item']}" if suite == "ped2" else \
            f"{'out' if r['group'] == '1' else 'in'} set, item {r['item']}"
        axes[i][0].imshow(img, **gray)
        axes[i][0].set_title(f"{cl}: {where}", fontsize=7)
        axes[i][1].imshow(rec, **gray)
        axes[i][1].set_title("reconstruction (attempt 1)", fontsize=7)
        im = axes[i][2].imshow(dm, cmap="inferno")
        axes[i][2].set_title(f"distance map, score {float(r['score']):.4g}", fontsize=7)
        fig.colorbar(im, ax=axes[i][2], fraction=0.046, pad=0.04)
        for a in axes[i]:
            a.set_xticks([])
            a.set_yticks([])
    fig.suptitle(f"{suite}: input | inpainted reconstruction | per-pixel distance", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, f"examples-{suite}.png"), dpi=110)
    plt.close(fig)


def main():
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    out = sys.argv[1]
    sums = {s: j for s in SUITES if (j := load_json(os.path.join(out, f"summary-{s}.json")))}
    sweeps = {s: j for s in SUITES if (j := load_json(os.path.join(out, f"sweep-{s}.json")))}
    made = []
    if sums:
        plot_roc(out, sums)
        made.append("roc.png")
    if "ped2" in sums:
        plot_timelines(out, sums["ped2"])
        made.append("ped2-timelines.png")
    if sweeps:
        plot_sweep(out, sweeps)
        made.append("sweep.png")
    for s in sums:
        p = os.path.join(out, f"examples-{s}.csv")
        if os.path.exists(p):
            rows = read_csv(p)
            if rows:
                plot_examples(out, s, rows)
                made.append(f"examples-{s}.png")
    print(f"plot_eval.py: wrote {', '.join(made) or 'nothing'} in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
