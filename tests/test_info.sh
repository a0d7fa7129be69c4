#!/usr/bin/env bash
# test_info.sh — `lmdd info --model FILE`: the architecture and cost of a
# model, and what the daemon will do with it: the calibration sidecar next
# to it (threshold) and the sampler settings it scores with (the sidecar's
# operating point, or the engine's defaults without one); a sidecar measured
# on another model file is reported as not usable, with the reason, and the
# defaults are shown; the shipped Ped2 model's history spacing and sidecar;
# bad arguments and missing files are named errors.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
LMDD=$PWD/$B/lmdd
FIX=$PWD/tests/fixtures/daemon-gray.safetensors   # 48 x 32, gray
. tests/check.sh info
if [ ! -x "$LMDD" ]; then echo "FAIL info_binary ($LMDD missing)"; exit 1; fi
cp "$FIX" "$d/m.safetensors"

# no sidecar: the architecture, and the engine's defaults
out=$("$LMDD" info --model "$d/m.safetensors" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "^frame size: *48 x 32 (W x H)" <<<"$out" &&
	grep -q "^calibration: *none (no $d/m.safetensors.calib.json" <<<"$out" &&
	grep -q "^sampler: *steps 10, reps 2, t0 T-1, .* (20 NFE per frame; the engine's defaults)$" <<<"$out"
check info_no_calibration $? "rc=$rc $out"

# a sidecar from lmdd calibrate: its threshold and its operating point
ffmpeg -v error -y -f lavfi -i "testsrc=s=96x64:r=10:d=0.4" -c:v ffv1 "$d/clip.mkv"
"$LMDD" calibrate --model "$d/m.safetensors" --backend cpu --steps 3 --reps 1 --t0 500 "$d/clip.mkv" \
	>"$d/cal.out" 2>&1
thr=$(/usr/bin/python3 -c 'import json, sys; print("%.6g" % json.load(open(sys.argv[1]))["threshold"])' \
	"$d/m.safetensors.calib.json" 2>&1)
out=$("$LMDD" info --model "$d/m.safetensors" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -qF "calibration:    $d/m.safetensors.calib.json: threshold $thr" <<<"$out" &&
	grep -q "^sampler: *steps 3, reps 1, t0 500, .* (3 NFE per frame; the model's operating point, from its calibration)$" <<<"$out"
check info_operating_point $? "rc=$rc thr=$thr $out $(cat "$d/cal.out")"

# the same sidecar next to another model file: not usable, and why
/usr/bin/python3 tests/make_model.py "$d/other.safetensors" --frame 32x48 --seed 7 >/dev/null 2>&1
cp "$d/m.safetensors.calib.json" "$d/other.safetensors.calib.json"
out=$("$LMDD" info --model "$d/other.safetensors" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "^calibration: *not usable: .*measured on another model file" <<<"$out" &&
	grep -q "^sampler: *steps 10, reps 2, t0 T-1, .*the engine's defaults)$" <<<"$out"
check info_calibration_other_model $? "rc=$rc $out"

# a sidecar that is not JSON: not usable, the file named
printf '{"threshold": ' >"$d/m.safetensors.calib.json"
out=$("$LMDD" info --model "$d/m.safetensors" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "^calibration: *not usable: .*$d/m.safetensors.calib.json" <<<"$out"
check info_calibration_corrupt $? "rc=$rc $out"

# the shipped Ped2 model: its history spacing, and a sidecar measured on
# this very file (the CRC it names matches)
out=$("$LMDD" info --model models/ucsd-ped2/model.safetensors 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "^cond interval: *0.1 s" <<<"$out" &&
	grep -q "^calibration: *models/ucsd-ped2/model.safetensors.calib.json: threshold" <<<"$out"
check info_shipped_ped2 $? "rc=$rc $out"

# errors: no model (64), a missing file named (66)
"$LMDD" info >/dev/null 2>"$d/e1"; rc1=$?
"$LMDD" info --model "$d/none.safetensors" >/dev/null 2>"$d/e2"; rc2=$?
[ $rc1 -eq 64 ] && grep -q "usage: lmdd info" "$d/e1" && [ $rc2 -eq 66 ] && grep -q "$d/none.safetensors" "$d/e2"
check info_errors $? "rc1=$rc1 rc2=$rc2 $(cat "$d/e1" "$d/e2")"
check_done
