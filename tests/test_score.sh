#!/usr/bin/env bash
# test_score.sh — `lmdd score`: one line per scored frame in each format,
# --every N picks frames 0, N, 2N..., --maps writes one W x H float32 map per
# scored frame whose mean is the frame's score (checkerboard, 2 attempts, mean
# pooling, median: each pixel is inpainted by exactly one of the two attempts
# when the blocks tile the frame, so the median of the two attempt means is
# the mean of the map), and bad arguments or an unwritable map file are
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
