#!/usr/bin/env bash
# test_daemon_config.sh — `lmdd check-config` and `lmdd run` on good and bad
# configuration files: every problem is reported as FILE:LINE: message, and
# `lmdd run` exits 78 (EX_CONFIG) without starting anything.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
LMDD=$PWD/$B/lmdd
FIX=$PWD/tests/fixtures/daemon-gray.safetensors
. tests/check.sh config
if [ ! -x "$LMDD" ]; then echo "FAIL config_binary ($LMDD missing)"; exit 1; fi

ffmpeg -v error -y -f lavfi -i color=c=gray:s=64x48:r=5:d=1 -c:v mjpeg "$d/clip.mkv"
cat >"$d/good.conf" <<EOF
[daemon]
model = $FIX
backend = cpu
steps = 3
publish = ipc://$d/pub.sock

[stream a]
url = $d/clip.mkv
threshold = 0.01
EOF
out=$("$LMDD" check-config "$d/good.conf" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "good.conf: OK" <<<"$out" && grep -q "stream a: $d/clip.mkv" <<<"$out"
check config_good_file_ok $? "rc=$rc $out"

# unknown key (line 4) and bad value (line 9), both reported
sed -e 's/^steps = 3/steps = 3\ncolour = blue/' -e 's/^threshold = 0.01/threshold = 0.01\nfps = fast/' \
	"$d/good.conf" >"$d/bad.conf"
out=$("$LMDD" check-config "$d/bad.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && grep -q "^$d/bad.conf:5: unknown key 'colour' in \[daemon\]" <<<"$out" &&
	grep -q "^$d/bad.conf:11: bad value 'fast' for fps" <<<"$out" && grep -q "2 errors" <<<"$out"
check config_check_reports_file_line $? "rc=$rc $out"

start=$(date +%s)
out=$("$LMDD" run --config "$d/bad.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && grep -q "^<3>$d/bad.conf:5: unknown key 'colour'" <<<"$out" &&
	grep -q "^<3>$d/bad.conf:11: bad value 'fast'" <<<"$out" && [ $(( $(date +%s) - start )) -lt 10 ]
check config_run_exits_78 $? "rc=$rc $out"

# missing model file
sed "s|^model = .*|model = $d/nope.safetensors|" "$d/good.conf" >"$d/nomodel.conf"
out=$("$LMDD" run --config "$d/nomodel.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && grep -q "nomodel.conf:2: cannot read model '$d/nope.safetensors'" <<<"$out"
check config_missing_model_78 $? "rc=$rc $out"

# a file that is not a model
echo "not a model" >"$d/junk.safetensors"
sed "s|^model = .*|model = $d/junk.safetensors|" "$d/good.conf" >"$d/junk.conf"
out=$("$LMDD" run --config "$d/junk.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && grep -q "junk.conf:2: model: " <<<"$out"
check config_bad_model_78 $? "rc=$rc $out"

# sampler parameters the model cannot take (t0 beyond T-1)
sed 's/^steps = 3/steps = 3\nt0 = 5000/' "$d/good.conf" >"$d/t0.conf"
out=$("$LMDD" check-config "$d/t0.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && grep -q "t0.conf:4: sampler parameters: t0 = 5000" <<<"$out"
check config_sampler_params_checked $? "rc=$rc $out"

# missing url, and no threshold anywhere (no calibration sidecar)
printf '[daemon]\nmodel = %s\n[stream x]\nfps = 2\n' "$FIX" >"$d/nourl.conf"
out=$("$LMDD" check-config "$d/nourl.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && grep -q "nourl.conf:3: \[stream x\] has no 'url'" <<<"$out"
check config_missing_url $? "rc=$rc $out"
sed '/^threshold/d' "$d/good.conf" >"$d/nothr.conf"
out=$("$LMDD" run --config "$d/nothr.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && grep -q "nothr.conf:7: \[stream a\] has no threshold and cannot open calibration" <<<"$out"
check config_no_threshold_78 $? "rc=$rc $out"

# the calibration sidecar next to the model supplies it
cp "$FIX" "$d/m.safetensors"
echo '{"threshold": 0.0042, "quantile": 0.99}' >"$d/m.safetensors.calib.json"
sed -e "s|^model = .*|model = m.safetensors|" -e '/^threshold/d' "$d/good.conf" >"$d/calib.conf"
out=$("$LMDD" check-config "$d/calib.conf" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "threshold 0.0042" <<<"$out" && grep -q "calibration: $d/m.safetensors.calib.json" <<<"$out"
check config_calibration_sidecar $? "rc=$rc $out"
echo '{"thresh": 1}' >"$d/m.safetensors.calib.json"
out=$("$LMDD" check-config "$d/calib.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && grep -q 'no numeric "threshold"' <<<"$out"
check config_bad_calibration $? "rc=$rc $out"
# a sidecar measured with other sampler settings is refused, naming the setting
echo '{"threshold": 0.0042, "params": {"steps": 10, "reps": 2, "t0": -1, "eta": 0, "mask": "checkerboard:8", "jump": 0, "resample": 0, "distance": "mse", "pool": "mean", "agg": "median", "seed": 0}}' >"$d/m.safetensors.calib.json"
out=$("$LMDD" check-config "$d/calib.conf" 2>&1); rc=$?
[ $rc -eq 78 ] && grep -q "other sampler settings: steps 10 (the config: 3)" <<<"$out"
check config_calibration_params_must_match $? "rc=$rc $out"
# the same sidecar with the config's settings is accepted
sed -i 's/"steps": 10/"steps": 3/' "$d/m.safetensors.calib.json"
out=$("$LMDD" check-config "$d/calib.conf" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "threshold 0.0042" <<<"$out"
check config_calibration_params_match $? "rc=$rc $out"
# settings the config leaves out come from the sidecar (steps 3, reps 4 ->
# 12 NFE); the ones it sets must still match
sed -i 's/"reps": 2/"reps": 4/' "$d/m.safetensors.calib.json"
sed '/^steps/d' "$d/calib.conf" >"$d/calib-nosteps.conf"
out=$("$LMDD" check-config "$d/calib-nosteps.conf" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "12 NFE per frame" <<<"$out"
out2=$(sed 's/^steps = 3/reps = 2/' "$d/calib.conf" >"$d/calib-reps.conf"; "$LMDD" check-config "$d/calib-reps.conf" 2>&1); rc2=$?
[ $rc -eq 0 ] && grep -q "12 NFE per frame" <<<"$out" && [ $rc2 -eq 78 ] && grep -q "reps 4 (the config: 2)" <<<"$out2"
check config_calibration_supplies_unset_settings $? "rc=$rc $out / rc2=$rc2 $out2"

# lmdd calibrate writes a sidecar the daemon accepts at the same settings
ffmpeg -v error -y -f lavfi -i "testsrc=s=96x64:r=10:d=0.6" -c:v ffv1 "$d/cal.mkv"
out=$("$LMDD" calibrate --model "$FIX" --backend cpu --steps 3 --reps 2 --out "$d/fix.calib.json" "$d/cal.mkv" 2>&1); rc=$?
ok=1
[ $rc -eq 0 ] && grep -q "calibrate: 6 frames scored" <<<"$out" && /usr/bin/python3 -c "
import json, sys
j = json.load(open('$d/fix.calib.json'))
assert j['frames'] == 6 and j['threshold'] > 0 and j['params']['steps'] == 3, j
assert j['stats']['min'] <= j['stats']['p50'] <= j['threshold'] <= j['stats']['max'] + 1e-12, j['stats']
r = j['region_peak_stats']
assert j['region_blur'] == 2 and 0 < r['p50'] <= j['region_threshold'] <= r['max'] + 1e-12, (j['region_threshold'], r)
" && ok=0
sed -e "s|^model = .*|model = $FIX|" -e '/^threshold/d' -e "s|^\[daemon\]|[daemon]\ncalibration = $d/fix.calib.json|" "$d/good.conf" >"$d/cal.conf"
out2=$("$LMDD" check-config "$d/cal.conf" 2>&1) || ok=1
grep -q "calibration: $d/fix.calib.json" <<<"$out2" || ok=1
grep -q "region threshold [0-9.e-]* (x region_factor 1)" <<<"$out2" || ok=1
check calibrate_writes_usable_sidecar $ok "rc=$rc $out $out2"
# a region threshold measured with another blur radius is not used (said why)
out=$("$LMDD" calibrate --model "$FIX" --backend cpu --steps 3 --reps 2 --every 3 --region-blur 3 \
	--out "$d/fix.calib.json" "$d/cal.mkv" 2>&1); rc=$?
out2=$("$LMDD" check-config "$d/cal.conf" 2>&1); rc2=$?
[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && grep -q "region threshold not used: measured with region_blur 3, the config has 2" <<<"$out2"
check calibrate_region_blur_must_match $? "rc=$rc rc2=$rc2 $out $out2"
"$LMDD" calibrate --model "$FIX" --region-blur 40 "$d/cal.mkv" >"$d/rb.out" 2>&1; rc=$?
[ $rc -eq 64 ] && grep -q "region-blur '40'" "$d/rb.out"
check calibrate_bad_region_blur_64 $? "rc=$rc $(cat "$d/rb.out")"
# too few frames is a data error (65), and nothing is written
ffmpeg -v error -y -f lavfi -i "testsrc=s=96x64:r=10:d=0.1" -c:v ffv1 "$d/one.mkv"
"$LMDD" calibrate --model "$FIX" --backend cpu --steps 2 --out "$d/one.calib.json" "$d/one.mkv" >"$d/one.out" 2>&1; rc=$?
[ $rc -eq 65 ] && grep -q "need at least 2 frames" "$d/one.out" && [ ! -e "$d/one.calib.json" ]
check calibrate_too_few_frames_65 $? "rc=$rc $(cat "$d/one.out")"

# --every 2 scores frames 0, 2, 4 of the 6-frame clip; a bad value is a usage error
out=$("$LMDD" calibrate --model "$FIX" --backend cpu --steps 2 --every 2 --out "$d/ev.calib.json" "$d/cal.mkv" 2>&1); rc=$?
[ $rc -eq 0 ] && grep -q "calibrate: 3 frames scored" <<<"$out" && grep -q '"frames":[[:space:]]*3' "$d/ev.calib.json"
check calibrate_every_n $? "rc=$rc $out"
"$LMDD" calibrate --model "$FIX" --every 0 "$d/cal.mkv" >"$d/ev0.out" 2>&1; rc=$?
[ $rc -eq 64 ] && grep -q -- "--every '0': expected an integer" "$d/ev0.out"
check calibrate_every_bad_64 $? "rc=$rc $(cat "$d/ev0.out")"
# a model conditioned on 2 previous frames: frames 0 and 1 of each input are
# history only (6 frames -> 4 scored), and single images are refused
if /usr/bin/python3 tests/make_model.py "$d/cond2.safetensors" --cond 2 --base 8 --mult 1,2 --attn "" \
	--groups 4 --frame 64x96 >"$d/cond.out" 2>&1; then
	out=$("$LMDD" calibrate --model "$d/cond2.safetensors" --backend cpu --steps 2 --out "$d/c2.calib.json" "$d/cal.mkv" 2>&1); rc=$?
	[ $rc -eq 0 ] && grep -q "calibrate: 4 frames scored" <<<"$out"
	check calibrate_cond_skips_history $? "rc=$rc $out"
	# the same model with a 0.2 s history spacing: 0.4 s of a 10 fps input is
	# history only (frames 0..3), 2 scored
	/usr/bin/python3 tests/make_model.py "$d/cond2i.safetensors" --cond 2 --base 8 --mult 1,2 --attn "" \
		--groups 4 --frame 64x96 --cond-interval 0.2 >/dev/null 2>&1
	out=$("$LMDD" calibrate --model "$d/cond2i.safetensors" --backend cpu --steps 2 --out "$d/c2i.calib.json" "$d/cal.mkv" 2>&1); rc=$?
	[ $rc -eq 0 ] && grep -q "calibrate: 2 frames scored" <<<"$out"
	check calibrate_cond_skips_history_by_time $? "rc=$rc $out"
	ffmpeg -v error -y -i "$d/cal.mkv" -frames:v 2 "$d/still-%d.png"
	out=$("$LMDD" calibrate --model "$d/cond2.safetensors" --backend cpu --steps 2 --out "$d/c3.calib.json" "$d/still-1.png" "$d/still-2.png" 2>&1); rc=$?
	[ $rc -eq 65 ] && grep -q "give videos, not single images" <<<"$out" && [ ! -e "$d/c3.calib.json" ]
	check calibrate_cond_single_images_65 $? "rc=$rc $out"
	# a sidecar records its model's CRC-32: next to another model file it is refused
	grep -q '"model_crc32":[[:space:]]*"[0-9a-f]\{8\}"' "$d/fix.calib.json"; r1=$?
	sed -e "s|^model = .*|model = $d/cond2.safetensors|" "$d/cal.conf" >"$d/other.conf"
	out=$("$LMDD" check-config "$d/other.conf" 2>&1); rc=$?
	[ $r1 -eq 0 ] && [ $rc -eq 78 ] && grep -q "was measured on another model file" <<<"$out"
	check config_calibration_other_model_78 $? "rc=$rc $out"
else
	check calibrate_cond_model_made 1 "$(tail -5 "$d/cond.out")"
fi

# usage errors are 64, not 78
"$LMDD" run --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 64 ]; check config_run_usage_64 $? "rc=$rc"
"$LMDD" check-config "$d/none.conf" >/dev/null 2>&1; rc=$?
[ $rc -eq 78 ]; check config_missing_file_78 $? "rc=$rc"

# the shipped example config parses (its model may not exist yet: only
# that error is allowed)
out=$("$LMDD" check-config config/lmdd.conf 2>&1); rc=$?
bad=$(grep "^config/lmdd.conf:[0-9]" <<<"$out" | grep -v "cannot read model\|model: \|has no threshold" || true)
[ -z "$bad" ] && { [ $rc -eq 0 ] || [ $rc -eq 78 ]; }
check config_example_parses $? "rc=$rc $out"

check_done
