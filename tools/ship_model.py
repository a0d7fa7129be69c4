#!/usr/bin/python3
"""ship_model.py — copy a training run's published snapshot into models/.

    /usr/bin/python3 tools/ship_model.py runs/NAME/pub models/NAME

A running train.py publishes into runs/NAME/pub at every checkpoint; what
is committed under models/ is only the snapshot that was evaluated (then
`lmdd eval` and tools/card_check.py refresh the card's "Engine check").
This copies model.safetensors and loss.png, and writes the card from the
snapshot's: the warm-start command (its last `--init`) is pointed at the
shipped file instead of the run's publish folder, and the shipped card's hand-written "## Notes"
and "## Engine check" sections are kept (train/export.py kept_sections;
the Engine check names the step it measured, so an older one stays true
until card_check.py replaces it). Files are written atomically.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
import export  # noqa: E402


def ship(src, dst):
    for f in ("model.safetensors", "README.md"):
        if not os.path.isfile(os.path.join(src, f)):
            raise SystemExit(f"ship_model: {os.path.join(src, f)}: missing (not a train.py publish folder?)")
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(src, "README.md")) as f:
        card = f.read()
    tail = export.kept_sections(os.path.join(src, "README.md"))
    if tail:
        card = card[:len(card) - len(tail)]
    # the warm-start command is the card's last code block (export.write_card)
    i = card.rfind("--init ")
    if i >= 0:
        j = i + len("--init ")
        k = j
        while k < len(card) and not card[k].isspace():
            k += 1
        card = card[:j] + os.path.join(os.path.normpath(dst), "model.safetensors") + card[k:]
    card += export.kept_sections(os.path.join(dst, "README.md")) or tail
    for f in ("model.safetensors", "loss.png"):
        if os.path.isfile(os.path.join(src, f)):
            shutil.copyfile(os.path.join(src, f), os.path.join(dst, f + ".tmp"))
            os.replace(os.path.join(dst, f + ".tmp"), os.path.join(dst, f))
    with open(os.path.join(dst, "README.md.tmp"), "w") as f:
        f.write(card)
    os.replace(os.path.join(dst, "README.md.tmp"), os.path.join(dst, "README.md"))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.strip().split("\n\n")[1].strip())
    ship(sys.argv[1], sys.argv[2])
    print(f"ship_model: {sys.argv[1]} -> {sys.argv[2]}")
