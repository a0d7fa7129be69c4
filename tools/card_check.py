#!/usr/bin/env python3
"""card_check.py — writes the "## Engine check" section of a model card from
an `lmdd eval` result: the mean score the C engine gives in-domain and
out-of-domain images, and the AUROC, for the model snapshot (training step)
the evaluation used.

    /usr/bin/python3 tools/card_check.py docs/results/summary-fmnist-mnist.json

The card is models/<name>/README.md of the evaluated model file. train.py
regenerates the rest of the card at each checkpoint and keeps this section
(it names the step it was measured at) and a hand-written "## Notes" before it.
"""
import csv
import json
import os
import statistics
import sys

MARK = "## Engine check"


def section(summary_path):
    with open(summary_path) as f:
        s = json.load(f)
    folder = os.path.dirname(os.path.abspath(summary_path))
    scores = {0: [], 1: []}
    with open(os.path.join(folder, s["scores_csv"])) as f:
        for row in csv.DictReader(f):
            scores[int(row["label"])].append(float(row["score"]))
    m, p = s["metrics"], s["params"]
    t0 = "T-1" if p["t0"] < 0 else p["t0"]
    sampler = (f"steps {p['steps']}, reps {p['reps']}, t0 {t0}, mask {p['mask']}, distance {p['distance']}, "
               f"pool {p['pool']}" + (f"; the settings not on the command line from `{s['params_from']}`"
                                      if "params_from" in s else ""))
    lines = [MARK, "",
             f"Measured with the C engine by `{s['command']}` ({s['date']}) on this model at training "
             f"step {s['model']['training_steps']}: {s['nfe']} NFE per image ({sampler}), {s['device']}, "
             f"{s['s_per_image']:.3f} s per image; {s['subset']}.", ""]
    for label, name in ((0, s["in_set"] + " (in-domain)"), (1, s["out_set"] + " (out-of-domain)")):
        v = scores[label]
        lines.append(f"- mean score, {name}: {statistics.mean(v):.5f} "
                     f"(median {statistics.median(v):.5f}, n {len(v)})")
    ratio = statistics.mean(scores[1]) / statistics.mean(scores[0])
    lines += [f"- out/in ratio of the means: {ratio:.2f}",
              f"- AUROC {m['auroc']:.4f} [{m['auroc_lo']:.4f}, {m['auroc_hi']:.4f}], "
              f"FPR at 95% TPR {m['fpr95']:.4f} — docs/results/README.md", ""]
    return s["model"]["file"], "\n".join(lines)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    for path in sys.argv[1:]:
        model, text = section(path)
        card = os.path.join(os.path.dirname(model), "README.md")
        with open(card) as f:
            old = f.read()
        head = old.split("\n" + MARK)[0].rstrip("\n") + "\n\n"
        with open(card + ".tmp", "w") as f:
            f.write(head + text)
        os.replace(card + ".tmp", card)
        print(f"card_check: {card}: {MARK} from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
