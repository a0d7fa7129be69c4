#!/usr/bin/env bash
# test_eval.sh — end-to-end smoke test of `lmdd eval` (eval/eval.c) on
# random-weight models from tests/make_model.py, fast (2 NFE per image):
#   eval_smoke        --suite fmnist-mnist --limit 20 writes README.md, the
#                     scores CSV, summary JSON, example dumps, and prints an
#                     AUROC line with a number in [0, 1]; plots when
#                     matplotlib is there
#   eval_reproducible the same command twice gives identical scores
#   eval_video_paths  on two generated clips, the frame-subset loop (--stride 2)
#                     gives the same scores as the daemon's every-frame path
#                     (cli_score_inputs) for the frames both score (--batch 1:
#                     the noise is per batch slot)
#   eval_video_paths_cond  the same for a model conditioned on 2 frames 0.2 s
#                     apart: both loops take the history by time
#   eval_motion_baseline  on two clips whose anomalous frames hold a sliding
#                     square, the no-model motion-speed rows (media/motion.h)
#                     score AUROC 1 over the frames that have a predecessor,
#                     and the scores CSV's speed column has each frame's speed
#   eval_sweep        --sweep-only --sweep-factors pool,reps: one row per value
#                     of those two factors (and the base), each distinct
#                     setting scored once (rows with the base's parameters
#                     carry the base's AUROC), NFE = steps x reps per row;
#                     each other row has its paired AUROC difference to the
#                     base, equal to the two AUROCs' difference, inside its CI;
#                     an unknown factor -> exit 64 naming it
#   eval_compare      --compare on two hand-made results folders: items
#                     matched by key whatever their order (one only in B),
#                     A all tied (0.5) vs B separating (1.0) -> B - A +0.5
#                     [+0.5, +0.5], "B better", image and Ped2 kinds (a blank
#                     last line skipped); a label
#                     that differs between the runs and an unparsable line
#                     -> exit 65 naming the item / the file and line
#   eval_calibration_other_model  a <model>.calib.json whose model_crc32 is
#                     another file's is flagged as not comparable on the page
#   eval_errors       missing model -> exit 66 and "not evaluated"; bad --suite -> 64
# Prints "PASS name" / "FAIL name" (tests/run.sh counts them).
set -u
B=${B:-build}
PY=${PY:-/usr/bin/python3}
cd "$(dirname "$0")/.."
LMDD="$B/lmdd"
T=$(mktemp -d /tmp/lmdd-test-eval-sh.XXXXXX)
trap 'rm -rf "$T"' EXIT
export OMP_NUM_THREADS=1   # a shared CI core: OpenMP spinning only slows this down

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }

if [ ! -x "$LMDD" ]; then
	fail eval_smoke "$LMDD not built"
	exit 1
fi
"$PY" tests/make_model.py "$T/m.safetensors" --base 8 --mult 1 --attn "" --groups 2 --frame 32x32 >/dev/null 2>&1 ||
	{ fail eval_smoke "tests/make_model.py failed"; exit 1; }
# MNIST stand-in: the suites read MNIST's test file as a set of 10,000 28x28
# images, and these tests score them with a random-weight model, so any
# digits-shaped file will do (a user's checkout has no ../shared/data/mnist)
mkdir -p "$T/mnist"
"$PY" - "$T/mnist/t10k-images-idx3-ubyte.gz" <<'PYEOF' || { fail eval_smoke "MNIST stand-in"; exit 1; }
import gzip, struct, sys
import numpy as np
x = (np.random.default_rng(0).random((10000, 28, 28)) > 0.9).astype(np.uint8) * 255
with gzip.open(sys.argv[1], "wb", compresslevel=1) as f:
    f.write(struct.pack(">IIII", 0x803, 10000, 28, 28) + x.tobytes())
PYEOF
FAST=(--backend cpu --steps 2 --reps 1 --bootstrap 200 --mnist-data "$T/mnist")

# ---- eval_smoke
out="$T/r1"
if ! "$LMDD" eval --suite fmnist-mnist --limit 20 --fmnist-model "$T/m.safetensors" "${FAST[@]}" \
	--out "$out" >"$T/stdout" 2>"$T/stderr"; then
	fail eval_smoke "lmdd eval exited $?: $(tail -3 "$T/stderr")"
else
	why=""
	for f in README.md scores-fmnist-mnist.csv summary-fmnist-mnist.json examples-fmnist-mnist.csv \
		examples/fmnist-mnist-0-0.image.pgm examples/fmnist-mnist-1-0.map.pfm; do
		[ -s "$out/$f" ] || why="$why missing $f;"
	done
	rows=$(($(wc -l <"$out/scores-fmnist-mnist.csv") - 1))
	[ "$rows" -eq 40 ] || why="$why $rows score rows, expected 40;"
	auc=$(sed -n 's/^fmnist-mnist AUROC \([0-9.eE+-]*\) .*/\1/p' "$T/stdout")
	if [ -z "$auc" ] || ! awk -v a="$auc" 'BEGIN { exit !(a + 0 == a && a >= 0 && a <= 1) }'; then
		why="$why no AUROC number in [0,1] on stdout ('$auc');"
	fi
	grep -q "missed by\|met" "$T/stdout" || why="$why no target status;"
	grep -q "| Fashion-MNIST (in) vs MNIST (out) |" "$out/README.md" || why="$why no headline row in README.md;"
	if "$PY" -c "import matplotlib" 2>/dev/null; then
		[ -s "$out/roc.png" ] && [ -s "$out/examples-fmnist-mnist.png" ] || why="$why plots missing;"
	fi
	[ -z "$why" ] && pass eval_smoke || fail eval_smoke "$why"
fi

# ---- eval_reproducible
if "$LMDD" eval --suite fmnist-mnist --limit 20 --fmnist-model "$T/m.safetensors" "${FAST[@]}" --no-plots \
	--out "$T/r2" >/dev/null 2>&1 && cmp -s "$out/scores-fmnist-mnist.csv" "$T/r2/scores-fmnist-mnist.csv"; then
	pass eval_reproducible
else
	fail eval_reproducible "a second run gave different scores"
fi

# ---- eval_video_paths
if ! command -v ffmpeg >/dev/null; then
	echo "SKIP eval_video_paths: no ffmpeg CLI to make test clips"
else
	d="$T/ped2"
	mkdir -p "$d/test"
	printf 'clip,frame,anomalous\n' >"$d/test-labels.csv"
	for c in 01 02; do
		ffmpeg -v error -y -f lavfi -i "testsrc=size=60x40:rate=10:duration=0.6" -vf "hue=h=${c}0" \
			-c:v mjpeg "$d/test/$c.mkv"
		for k in 0 1 2 3 4 5; do echo "$c,$k,$((k >= 3))" >>"$d/test-labels.csv"; done
	done
	V=(--suite ped2 --ped2-model "$T/m.safetensors" --ped2-data "$d" "${FAST[@]}" --batch 1 --no-plots)
	# a calibration sidecar left from another model file: reported as not comparable
	echo '{"threshold": 0.01, "model_crc32": "00000000"}' >"$T/m.safetensors.calib.json"
	if "$LMDD" eval "${V[@]}" --out "$T/v1" >/dev/null 2>"$T/v1.err" &&
		"$LMDD" eval "${V[@]}" --stride 2 --out "$T/v2" >/dev/null 2>"$T/v2.err"; then
		rm -f "$T/m.safetensors.calib.json"
		if grep -q "measured on another model file: not comparable" "$T/v1/README.md"; then
			pass eval_calibration_other_model
		else
			fail eval_calibration_other_model "$(grep -i "threshold" "$T/v1/README.md" | head -3)"
		fi
		# every-frame rows for even frames == the stride-2 rows (clip, frame, label, score)
		a=$(awk -F, 'NR > 1 && $2 % 2 == 0 { print $1, $2, $3, $4 }' "$T/v1/scores-ped2.csv")
		b=$(awk -F, 'NR > 1 { print $1, $2, $3, $4 }' "$T/v2/scores-ped2.csv")
		n1=$(($(wc -l <"$T/v1/scores-ped2.csv") - 1))
		if [ "$n1" -eq 12 ] && [ -n "$a" ] && [ "$a" = "$b" ] && grep -q '"metrics_clip_minmax"' "$T/v1/summary-ped2.json"; then
			pass eval_video_paths
		else
			fail eval_video_paths "every-frame ($n1 rows) and stride-2 scores differ: [$a] vs [$b]"
		fi
	else
		fail eval_video_paths "lmdd eval failed: $(tail -2 "$T/v1.err" "$T/v2.err")"
	fi
	"$PY" tests/make_model.py "$T/c.safetensors" --cond 2 --cond-interval 0.2 --base 8 --mult 1 --attn "" \
		--groups 2 --frame 32x32 >/dev/null 2>&1
	V=(--suite ped2 --ped2-model "$T/c.safetensors" --ped2-data "$d" "${FAST[@]}" --batch 1 --no-plots)
	if "$LMDD" eval "${V[@]}" --out "$T/c1" >/dev/null 2>"$T/c1.err" &&
		"$LMDD" eval "${V[@]}" --stride 2 --out "$T/c2" >/dev/null 2>"$T/c2.err"; then
		a=$(awk -F, 'NR > 1 && $2 % 2 == 0 { print $1, $2, $3, $4 }' "$T/c1/scores-ped2.csv")
		b=$(awk -F, 'NR > 1 { print $1, $2, $3, $4 }' "$T/c2/scores-ped2.csv")
		n1=$(($(wc -l <"$T/c1/scores-ped2.csv") - 1))
		if [ "$n1" -eq 12 ] && [ -n "$a" ] && [ "$a" = "$b" ]; then
			pass eval_video_paths_cond
		else
			fail eval_video_paths_cond "every-frame ($n1 rows) and stride-2 scores differ: [$a] vs [$b]"
		fi
	else
		fail eval_video_paths_cond "lmdd eval failed: $(tail -2 "$T/c1.err" "$T/c2.err")"
	fi

	# ---- eval_motion_baseline: two clips of a textured square on a textured
	# background, still in frames 0-2 (normal) and sliding 4 or 8 px per frame
	# in frames 3-5 (anomalous; overlay's n counts from 1 here, FFmpeg 5.1): the no-model speed rows rank every moving
	# frame above every still one, over the 10 frames that have a predecessor
	d="$T/moving"
	mkdir -p "$d/test"
	printf 'clip,frame,anomalous\n' >"$d/test-labels.csv"
	for c in 1 2; do
		ffmpeg -v error -y -f lavfi -i "nullsrc=s=64x48:r=10:d=0.6,format=gray,geq=lum='mod(X*37+Y*91+X*Y*13\,97)'" \
			-f lavfi -i "nullsrc=s=24x24:r=10:d=0.6,format=gray,geq=lum='128+mod(X*X*7+Y*53+X*Y\,127)'" \
			-filter_complex "[0][1]overlay=x='4+max(0\,n-3)*$((4 * c))':y=12:eval=frame,format=yuvj420p" \
			-c:v mjpeg -q:v 2 "$d/test/0$c.mkv"
		for k in 0 1 2 3 4 5; do echo "0$c,$k,$((k >= 3))" >>"$d/test-labels.csv"; done
	done
	V=(--suite ped2 --ped2-model "$T/m.safetensors" --ped2-data "$d" "${FAST[@]}" --batch 1 --no-plots)
	if "$LMDD" eval "${V[@]}" --out "$T/mv" >"$T/mv.out" 2>"$T/mv.err"; then
		got=$("$PY" -c 'import json, sys
b = json.load(open(sys.argv[1]))["motion_speed"]
print(b["frames"], b["metrics"]["n_in"], b["metrics"]["n_out"], b["metrics"]["auroc"], b["metrics_clip_minmax"]["auroc"])' \
			"$T/mv/summary-ped2.json" 2>&1)
		# the scores CSV's speed column: empty for frame 0, 0 while still, > 0.5
		# while sliding (a 3x3-block square fills 9/25 of a box, and EPZS finds
		# the first moving frame's vectors only in part: measured 1.0 and 1.35)
		col=$(awk -F, 'NR > 1 { printf "%s", ($2 == 0 ? ($6 == "" ? "e" : "x") : ($2 < 3 ? ($6 == 0 ? "0" : "x") : ($6 > 0.5 ? "m" : "x"))) }' \
			"$T/mv/scores-ped2.csv")
		if [ "$got" = "10 4 6 1 1" ] && [ "$col" = "e00mmme00mmm" ] && grep -q "^ped2-speed AUROC 1.0000" "$T/mv.out" &&
			grep -q "no model, one global scale | none: motion speed" "$T/mv/README.md"; then
			pass eval_motion_baseline
		else
			fail eval_motion_baseline "frames n_in n_out auroc auroc_clip: [$got], expected [10 4 6 1 1]; speed column [$col], expected [e00mmme00mmm]; $(grep speed "$T/mv.out")"
		fi
	else
		fail eval_motion_baseline "lmdd eval failed: $(tail -2 "$T/mv.err")"
	fi
fi

# ---- eval_calibration_params: the model's sidecar (lmdd calibrate --t0 500)
# fills the sampler settings the command line leaves out, and the page says
# so; a setting given on the command line wins, with a warning naming the file,
# and the sidecar still fills the others (--steps 3 keeps the sidecar's t0 500)
if command -v ffmpeg >/dev/null; then
	ffmpeg -v error -y -f lavfi -i "testsrc=size=32x32:rate=10:duration=0.4" "$T/still-%d.png"
	cp "$T/m.safetensors" "$T/c.safetensors"
	why=""
	"$LMDD" calibrate --model "$T/c.safetensors" --backend cpu --steps 2 --reps 1 --t0 500 "$T"/still-*.png \
		>"$T/cal.out" 2>&1 || why="calibrate failed: $(tail -2 "$T/cal.out");"
	E=(--suite fmnist-mnist --limit 8 --fmnist-model "$T/c.safetensors" "${FAST[@]}" --no-plots)
	"$LMDD" eval "${E[@]}" --out "$T/cp1" >/dev/null 2>"$T/cp1.err" || why="$why eval failed: $(tail -2 "$T/cp1.err");"
	"$LMDD" eval "${E[@]}" --t0 999 --out "$T/cp2" >/dev/null 2>"$T/cp2.err" || why="$why eval --t0 failed;"
	"$LMDD" eval "${E[@]}" --steps 3 --out "$T/cp3" >/dev/null 2>"$T/cp3.err" || why="$why eval --steps failed;"
	why="$why$("$PY" - "$T" <<'PYEOF'
import json, sys
t = sys.argv[1]
a = json.load(open(t + "/cp1/summary-fmnist-mnist.json"))
b = json.load(open(t + "/cp2/summary-fmnist-mnist.json"))
bad = []
if a["params"]["t0"] != 500 or a.get("params_from") != t + "/c.safetensors.calib.json":
    bad.append("sidecar not used: t0 %s, params_from %s" % (a["params"]["t0"], a.get("params_from")))
if "from the model's calibration" not in open(t + "/cp1/README.md").read():
    bad.append("README does not say where the settings came from")
if b["params"]["t0"] != 999 or "params_from" in b:
    bad.append("--t0 999 not kept: t0 %s, params_from %s" % (b["params"]["t0"], b.get("params_from")))
if "t0 500 (the config: 999)" not in open(t + "/cp2.err").read():
    bad.append("no warning naming the difference: %s" % open(t + "/cp2.err").read()[-300:])
c = json.load(open(t + "/cp3/summary-fmnist-mnist.json"))
if c["params"]["steps"] != 3 or c["params"]["t0"] != 500 or c.get("params_from") != t + "/c.safetensors.calib.json":
    bad.append("--steps 3 dropped the sidecar's other settings: %s, params_from %s" % (c["params"], c.get("params_from")))
if "the sidecar's for the rest" not in open(t + "/cp3.err").read():
    bad.append("the --steps 3 warning does not say the sidecar filled the rest: %s" % open(t + "/cp3.err").read()[-300:])
print("; ".join(bad))
PYEOF
)"
	[ -z "$why" ] && pass eval_calibration_params || fail eval_calibration_params "$why"
fi

# ---- eval_sweep
if "$LMDD" eval --suite fmnist-mnist --sweep-only --sweep-factors pool,reps --sweep-limit 6 \
	--fmnist-model "$T/m.safetensors" "${FAST[@]}" --no-plots --out "$T/sw" >/dev/null 2>"$T/sw.err"; then
	why=$("$PY" - "$T/sw/sweep-fmnist-mnist.json" <<'PYEOF'
import json, sys
j = json.load(open(sys.argv[1]))
rows = [(r["factor"], r["value"]) for r in j["rows"]]
want = [("base", "base"), ("reps", "1"), ("reps", "2"), ("reps", "4"), ("reps", "8"),
        ("pool", "mean"), ("pool", "max:9")]
bad = []
if sorted(rows) != sorted(want):
    bad.append("rows %s, expected %s" % (rows, want))
base = j["rows"][0]
for r in j["rows"]:
    p = r["params"]
    if r["nfe"] != p["steps"] * p["reps"]:
        bad.append("%s=%s: nfe %d != steps x reps" % (r["factor"], r["value"], r["nfe"]))
    if p == base["params"] and r["metrics"]["auroc"] != base["metrics"]["auroc"]:
        bad.append("%s=%s has the base's settings but another AUROC" % (r["factor"], r["value"]))
    if not 0 <= r["metrics"]["auroc"] <= 1 or r["metrics"]["n_in"] != 6:
        bad.append("%s=%s: metrics %s" % (r["factor"], r["value"], r["metrics"]))
    m = r["metrics"]
    if p == base["params"]:
        if "d_auroc" in m:
            bad.append("%s=%s is the base but has a paired difference" % (r["factor"], r["value"]))
    elif "d_auroc" not in m:
        bad.append("%s=%s: no paired difference to the base" % (r["factor"], r["value"]))
    elif not (m["d_auroc_lo"] <= m["d_auroc"] <= m["d_auroc_hi"]
              and abs(m["d_auroc"] - (m["auroc"] - base["metrics"]["auroc"])) < 1e-9):
        bad.append("%s=%s: paired difference %s [%s, %s] against AUROCs %s and %s" % (
            r["factor"], r["value"], m["d_auroc"], m["d_auroc_lo"], m["d_auroc_hi"], m["auroc"],
            base["metrics"]["auroc"]))
print("; ".join(bad))
PYEOF
)
	"$LMDD" eval --suite fmnist-mnist --sweep-only --sweep-factors pool,colour --out "$T/sw2" >/dev/null 2>"$T/sw2.err"
	rc=$?
	[ "$rc" -eq 64 ] && grep -q "unknown factor 'colour'" "$T/sw2.err" || why="$why bad factor: exit $rc ($(cat "$T/sw2.err"))"
	[ -z "$why" ] && pass eval_sweep || fail eval_sweep "$why"
else
	fail eval_sweep "lmdd eval --sweep-only failed: $(tail -3 "$T/sw.err")"
fi

# ---- eval_compare
mkdir -p "$T/ca" "$T/cb" "$T/cc" "$T/cd"
printf 'clip,frame,label,score,score_clip_minmax,speed\n01,0,0,1,0,\n01,1,1,1,0,1.5\n02,0,0,1,0,\n02,1,1,1,0,\n03,0,0,1,0,\n03,1,1,1,0,\n' >"$T/ca/scores-ped2.csv"
printf 'clip,frame,label,score,score_clip_minmax,speed\n04,0,0,9,0,\n03,1,1,5,1,\n03,0,0,2,0,\n02,1,1,5,1,\n02,0,0,2,0,\n01,1,1,5,1,\n01,0,0,2,0,\n' >"$T/cb/scores-ped2.csv"
printf 'set,item,label,score\nin,0,0,0.5\nin,1,0,0.5\nout,0,1,0.5\nout,1,1,0.5\n\n' >"$T/ca/scores-fmnist-mnist.csv"
printf 'set,item,label,score\nout,1,1,0.9\nout,0,1,0.8\nin,1,0,0.2\nin,0,0,0.1\n' >"$T/cb/scores-fmnist-mnist.csv"
sed 's/^02,1,1,5,1,$/02,1,0,5,1,/' "$T/cb/scores-ped2.csv" >"$T/cc/scores-ped2.csv"
sed '3s/.*/01,x,0,1,0,/' "$T/cb/scores-ped2.csv" >"$T/cd/scores-ped2.csv"
out=$("$LMDD" eval --compare "$T/cb" --out "$T/ca" --bootstrap 200 2>"$T/c.err"); rc=$?
"$LMDD" eval --compare "$T/cc" --out "$T/ca" --suite ped2 >/dev/null 2>"$T/c2.err"; rc2=$?
"$LMDD" eval --compare "$T/cd" --out "$T/ca" --suite ped2 >/dev/null 2>"$T/c3.err"; rc3=$?
why=""
[ "$rc" -eq 0 ] || why="$why exit $rc ($(cat "$T/c.err"));"
grep -q "^ped2: 6 items in both (3 in, 3 out); 0 only in A, 1 only in B$" <<<"$out" || why="$why ped2 matching;"
[ "$(grep -c 'AUROC A 0.5000, B 1.0000; B - A +0.5000 \[+0.5000, +0.5000\] (paired, 200 resamples, .*B better$' <<<"$out")" -eq 2 ] ||
	why="$why differences;"
grep -q "whole clips" <<<"$out" && grep -q "stratified" <<<"$out" || why="$why resampling kinds;"
grep -q "per-clip min-max" <<<"$out" && why="$why min-max compared over different frame sets;"
[ "$rc2" -eq 65 ] && grep -q "ped2 02 1: label 1 in .* but 0 in" "$T/c2.err" || why="$why label mismatch: exit $rc2 ($(cat "$T/c2.err"));"
[ "$rc3" -eq 65 ] && grep -q "cd/scores-ped2.csv: line 3: expected" "$T/c3.err" || why="$why bad line: exit $rc3 ($(cat "$T/c3.err"));"
[ -z "$why" ] && pass eval_compare || fail eval_compare "$why output: $out"

# ---- eval_errors
"$LMDD" eval --suite fmnist-mnist --fmnist-model "$T/none.safetensors" --out "$T/e" --no-plots >/dev/null 2>"$T/e.err"
rc=$?
"$LMDD" eval --suite nope --out "$T/e" >/dev/null 2>"$T/e2.err"
rc2=$?
if [ "$rc" -eq 66 ] && grep -q "not evaluated" "$T/e.err" && [ "$rc2" -eq 64 ] && grep -q "expected fmnist-mnist" "$T/e2.err"; then
	pass eval_errors
else
	fail eval_errors "missing model: exit $rc ($(cat "$T/e.err")); bad suite: exit $rc2"
fi
