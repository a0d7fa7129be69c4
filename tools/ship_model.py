#!/usr/bin/python3
"""ship_model.py — copy a training run's published snapshot into models/.

    /usr/bin/python3 tools/ship_model.py runs/NAME/pub models/NAME
    /usr/bin/python3 tools/ship_model.py FILE.safetensors models/NAME [LOSS.png]

A running train.py publishes into runs/NAME/pub at every checkpoint; what
is committed under models/ is only the snapshot that was evaluated (then
`lmdd eval` and tools/card_check.py refresh the card's "Engine check").
This copies model.safetensors and loss.png, and writes the card from the
snapshot's: the warm-start command (its last `--init`) is pointed at the
shipped file instead of the run's publish folder, and the shipped card's hand-written "## Notes"
and "## Engine check" sections are kept (train/export.py kept_sections;
the Engine check names the step it measured, so an older one stays true
until card_check.py replaces it). Files are written atomically.

The second form ships a lone model file, from a run whose folder stayed on
another machine (a lent GPU: tools/gpu_train.sh returns only the files). Its
card is the one train.py would have published, written from the file's own
training record (the command that ran there); the resume command says the
checkpoint is gone.
"""
import json
import os
import shlex
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
import export  # noqa: E402
import train  # noqa: E402

GONE = "# not available: the run folder (checkpoint.pt) stayed on the machine that trained it"


def pub_from_file(model, loss, pub):
    """Fill folder pub as train.py --publish would have: model, loss plot, card."""
    tensors, meta = export.load_safetensors(model)
    tr = json.loads(meta.get("training") or "{}")
    if not tr.get("command"):
        raise SystemExit(f"ship_model: {model}: its training record has no command (not written by train.py?)")
    params = sum(t.numel() for t in tensors.values())
    cmd = tr["command"]
    toks = shlex.split(cmd)
    out = toks[toks.index("--out") + 1].rstrip("/") if "--out" in toks[:-1] else "runs/" + meta["name"]
    init = train.with_flags(cmd, {"--out": out + "-2",
                                  "--init": os.path.join(pub, "model.safetensors")})
    shutil.copyfile(model, os.path.join(pub, "model.safetensors"))
    if loss:
        shutil.copyfile(loss, os.path.join(pub, "loss.png"))
    export.write_card(os.path.join(pub, "README.md"), meta, params, cmd, GONE, init)


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


def main(argv):
    if not (len(argv) == 2 or len(argv) == 3 and argv[0].endswith(".safetensors")):
        raise SystemExit(__doc__.strip().split("\n\n")[1].strip())
    if argv[0].endswith(".safetensors"):
        with tempfile.TemporaryDirectory() as pub:
            pub_from_file(argv[0], argv[2] if len(argv) == 3 else None, pub)
            ship(pub, argv[1])
    else:
        ship(argv[0], argv[1])
    print(f"ship_model: {argv[0]} -> {argv[1]}")


if __name__ == "__main__":
    main(sys.argv[1:])
