#!/usr/bin/env bash
# test_score.sh — `lmdd score`: one line per scored frame in each format,
# --every N picks frames 0, N, 2N..., --maps writes one W x H float32 map per
# scored frame whose mean is the frame's score (checkerboard, 2 attempts, mean
# pooling, median: each pixel is inpainted by exactly one of the two attempts
# when the blocks tile the frame, so the median of the two attempt means is
# the mean of the map), a conditioned model's history is taken by time at
# the model's interval, and bad arguments or an unwritable map file are
# named errors with sysexits codes.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
LMDD=$PWD/$B/lmdd
FIX=$PWD/tests/fixtures/daemon-gray.safetensors   # 48 x 32: 8 x 8 blocks of 6 x 4 pixels
. tests/check.sh score
if [ ! -x "$LMDD" ]; then echo "FAIL score_binary ($LMDD missing)"; exit 1; fi
ffmpeg -v error -y -f lavfi -i "testsrc=s=96x64:r=10:d=0.7" -c:v ffv1 "$d/clip.mkv"   # 7 frames
S=(--model "$FIX" --backend cpu --steps 3 --reps 2)

# every frame, CSV: a header and frames 0..6
out=$("$LMDD" score "${S[@]}" --format csv "$d/clip.mkv" 2>"$d/err"); rc=$?
[ $rc -eq 0 ] && [ "$(head -1 <<<"$out")" = "input,frame,score" ] &&
	[ "$(tail -n +2 <<<"$out" | cut -d, -f2 | tr '\n' ' ')" = "0 1 2 3 4 5 6 " ]
check score_csv_every_frame $? "rc=$rc $out $(cat "$d/err")"

# --every 3 scores frames 0, 3, 6 with the same scores as the every-frame run
# (same batch slots: --batch 1), and --maps holds three maps whose means are
# those scores
all=$("$LMDD" score "${S[@]}" --batch 1 --format csv "$d/clip.mkv" 2>/dev/null)
out=$("$LMDD" score "${S[@]}" --batch 1 --format csv --every 3 --maps "$d/maps.f32" "$d/clip.mkv" 2>"$d/err"); rc=$?
[ $rc -eq 0 ] && /usr/bin/python3 - "$d/maps.f32" <<EOF
import sys
import numpy as np
every = [l.split(",") for l in """$out""".splitlines()[1:]]
full = {int(f): float(s) for _, f, s in (l.split(",") for l in """$all""".splitlines()[1:])}
assert [int(f) for _, f, _ in every] == [0, 3, 6], every
maps = np.fromfile(sys.argv[1], np.float32)
assert maps.size == 3 * 32 * 48, maps.size
maps = maps.reshape(3, 32, 48)
for (_, f, s), m in zip(every, maps):
    assert abs(float(s) - full[int(f)]) <= 1e-6 * full[int(f)], (f, s, full[int(f)])
    assert (m >= 0).all() and m.max() > 0, f
    assert abs(float(m.mean(dtype=np.float64)) - float(s)) <= 1e-5 * float(s), (f, m.mean(), s)
EOF
check score_every_and_maps $? "rc=$rc $out $(cat "$d/err")"

# a model conditioned on two previous frames takes them by time, at the
# interval it was trained at (media/history.h): the same clip at 30 fps
# (each 10 fps frame shown three times) gives every frame the history it has
# at 10 fps, so its scores are the 10 fps scores, each three times. A model
# that does not record its interval takes consecutive frames, whose history
# at 30 fps is a third as far back: different scores.
for iv in 0.1 none; do
	/usr/bin/python3 tests/make_model.py "$d/cond-$iv.safetensors" --cond 2 --base 8 --attn "" \
		--frame 32x48 $([ $iv = none ] || echo "--cond-interval $iv") >/dev/null
done
ffmpeg -v error -y -f lavfi -i "testsrc=s=96x64:r=10:d=1" -c:v ffv1 "$d/c10.mkv"
ffmpeg -v error -y -i "$d/c10.mkv" -vf fps=30 -c:v ffv1 "$d/c30.mkv"
for iv in 0.1 none; do
	for r in 10 30; do
		"$LMDD" score --model "$d/cond-$iv.safetensors" --backend cpu --steps 2 --reps 1 --format csv \
			"$d/c$r.mkv" 2>>"$d/err" | tail -n +2 | cut -d, -f3 >"$d/s-$iv-$r"
	done
done
/usr/bin/python3 - "$d" <<'EOF2'
import sys
d = sys.argv[1]
s = {k: [float(x) for x in open(f"{d}/s-{k}")] for k in ("0.1-10", "0.1-30", "none-10", "none-30")}
assert len(s["0.1-10"]) == 10 and len(s["0.1-30"]) == 30, {k: len(v) for k, v in s.items()}
for j, v in enumerate(s["0.1-30"]):
    ref = s["0.1-10"][j // 3]
    assert abs(v - ref) <= 1e-6 * abs(ref), ("by time", j, v, ref)
assert len(set(s["0.1-10"])) == 10, s["0.1-10"]  # the frames differ, so the scores do
# the same weights (same seed): at the training rate both models see the same history
assert all(abs(a - b) <= 1e-6 * abs(b) for a, b in zip(s["none-10"], s["0.1-10"]))
assert any(abs(s["none-30"][3 * i] - s["none-10"][i]) > 1e-6 * abs(s["none-10"][i]) for i in range(2, 10)), \
    "consecutive frames at 30 fps gave the 10 fps scores"
EOF2
check score_history_by_time $? "$(cat "$d/err" | tail -5)"

# bad --every is a usage error naming the value; an unwritable --maps is
# EX_CANTCREAT naming the path, before any scoring
"$LMDD" score "${S[@]}" --every 0 "$d/clip.mkv" >"$d/o" 2>&1; rc=$?
[ $rc -eq 64 ] && grep -q -- "score: --every '0': expected an integer" "$d/o"
check score_every_bad_64 $? "rc=$rc $(cat "$d/o")"
"$LMDD" score "${S[@]}" --maps "$d/no/such/dir/m.f32" "$d/clip.mkv" >"$d/o" 2>&1; rc=$?
[ $rc -eq 73 ] && grep -q -- "--maps $d/no/such/dir/m.f32: No such file or directory" "$d/o" && ! grep -q "^$d/clip" "$d/o"
check score_maps_unwritable_73 $? "rc=$rc $(cat "$d/o")"
# a full disk is EX_IOERR naming the file, not a silent short file
if [ -w /dev/full ]; then
	"$LMDD" score "${S[@]}" --maps /dev/full "$d/clip.mkv" >"$d/o" 2>&1; rc=$?
	[ $rc -eq 74 ] && grep -q -- "--maps /dev/full: No space left on device" "$d/o"
	check score_maps_full_disk_74 $? "rc=$rc $(cat "$d/o")"
fi
check_done
