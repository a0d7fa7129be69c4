#!/usr/bin/env bash
# demo.sh — `make demo`: the daemon watching two stretches of UCSD Ped2 test
# clips with the default model, and a subscriber printing each event as it
# arrives and saving its JPEG snapshot (regions outlined in red) and PNG
# heat-map under demo-out/events/:
#   ped2-02  clip 02 from 8.0 s to its end: walkers, then at 9.4 s a bicycle
#            rides in (labelled anomalous from frame 94 to the end);
#   ped2-12  clip 12 from 0 to 8.5 s: walkers only (labelled normal).
# The stretches ship in samples/ (copied out of the clips with ffmpeg: MJPEG,
# every frame a key frame, nothing re-encoded). Stops cleanly once both have played (or
# after DEMO_SECONDS). They are read with realtime = off: every frame at the
# analysis rate is scored, however slow the engine (a CPU takes seconds per
# frame at the service defaults; in real time it would see only a few).
#
# Settings (environment):
#   DEMO_MODEL    model file            (models/ucsd-ped2/model.safetensors)
#   DEMO_BACKEND  auto | vulkan | cpu   (auto)
#   DEMO_STEPS, DEMO_REPS, DEMO_T0      sampler (10, 2, max: the service defaults)
#   DEMO_FPS      analysis rate per stream (1: every 10th frame)
#   DEMO_SECONDS  stop after this long at most (120)
#   DEMO_OUT      output folder (demo-out)
# At other sampler settings the demo first calibrates its own threshold, on a
# few frames of the Ped2 training clips, read from $LMDD_DATA/ucsd-ped2
# (default ../shared/data: not in a user's clone; the shipped settings need none).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
LMDD=$PWD/$B/lmdd
MODEL=${DEMO_MODEL:-models/ucsd-ped2/model.safetensors}
BACKEND=${DEMO_BACKEND:-auto}
STEPS=${DEMO_STEPS:-10}
REPS=${DEMO_REPS:-2}
T0=${DEMO_T0:-max}
FPS=${DEMO_FPS:-1}
MAXS=${DEMO_SECONDS:-120}
OUT=${DEMO_OUT:-demo-out}
PED2=${LMDD_DATA:-../shared/data}/ucsd-ped2
SAMPLES=$PWD/samples
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

[ -x "$LMDD" ] || { echo "demo: $LMDD missing: run make first" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "demo: no model at $MODEL yet (being trained?); set DEMO_MODEL=FILE" >&2; exit 1; }
for c in 02 12; do
	[ -f "$SAMPLES/ped2-$c.mkv" ] || { echo "demo: $SAMPLES/ped2-$c.mkv missing (a partial checkout?)" >&2; exit 1; }
done
mkdir -p "$OUT/events"
OUT=$(cd "$OUT" && pwd)
MODEL=$(cd "$(dirname "$MODEL")" && pwd)/$(basename "$MODEL")

# A threshold holds only for the sampler settings and model file it was
# measured with (the daemon refuses a sidecar made with others): at the
# service defaults the model's shipped MODEL.calib.json applies; other
# settings get their own, made once on normal training frames.
CALIB=$OUT/calib-s$STEPS-r$REPS-t$T0.json
if [ "$STEPS/$REPS/$T0" = "10/2/max" ] && [ -f "$MODEL.calib.json" ]; then
	CALIB=$MODEL.calib.json
elif [ ! -f "$CALIB" ]; then
	echo "demo: calibrating the threshold on normal training frames (steps $STEPS, reps $REPS, t0 $T0)..."
	[ -d "$PED2/train" ] || { echo "demo: these sampler settings need their own threshold, measured on Ped2's training clips: $PED2/train missing (set LMDD_DATA to the folder holding ucsd-ped2/)" >&2; exit 1; }
	mkdir -p "$OUT/calib-frames"
	# 5-frame cuts (the frames are MJPEG: copied, not re-encoded), every 2nd
	# frame scored: a model conditioned on 2 previous frames gets its history
	for c in 01 05 09 13; do
		ffmpeg -v error -y -i "$PED2/train/$c.mkv" -frames:v 5 -c copy "$OUT/calib-frames/train$c.mkv"
	done
	"$LMDD" calibrate --model "$MODEL" --backend "$BACKEND" --steps "$STEPS" --reps "$REPS" \
		--t0 "$T0" --every 2 --out "$CALIB" "$OUT"/calib-frames/*.mkv
fi


cat >"$OUT/lmdd.conf" <<EOF
# written by tools/demo.sh
[daemon]
model = $MODEL
calibration = $CALIB
backend = $BACKEND
steps = $STEPS
reps = $REPS
t0 = $T0
publish = ipc://$OUT/lmdd.sock
status_interval = 2
update_interval = 2
log_level = notice

[stream ped2-02]
url = $SAMPLES/ped2-02.mkv
fps = $FPS
realtime = off
min_duration = 2
heatmap = on

[stream ped2-12]
url = $SAMPLES/ped2-12.mkv
fps = $FPS
realtime = off
min_duration = 2
heatmap = on
EOF
"$LMDD" check-config "$OUT/lmdd.conf"
echo
echo "demo: events as they arrive (JSON lines in $OUT/events.jsonl, images in $OUT/events/):"

# the subscriber first, so it sees the first event
"$LMDD" subscribe --endpoint "ipc://$OUT/lmdd.sock" --save-dir "$OUT/events" >"$OUT/events.jsonl" &
SUB=$!
tail -n +1 -f "$OUT/events.jsonl" 2>/dev/null | /usr/bin/python3 -u -c '
import json, sys
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    r = e.get("regions") or []
    box = " region %dx%d at (%d,%d)" % (r[0]["w"], r[0]["h"], r[0]["x"], r[0]["y"]) if r else ""
    print("%s  %-8s %-6s frame %4d  score %.5f (threshold %.5f)%s%s" % (
        e["time"][11:23], e["stream"], e["type"], e["frame"], e["score"], e["threshold"], box,
        ("  -> " + e["snapshot_file"]) if e.get("snapshot_file") else ""))
' &
SHOW=$!
sleep 0.3

"$LMDD" run --config "$OUT/lmdd.conf" --exit-at-end 2>"$OUT/daemon.log" &
DAEMON=$!
cleanup() {
	kill -TERM $DAEMON 2>/dev/null || true
	kill -INT $SUB 2>/dev/null || true
	kill $SHOW 2>/dev/null || true
}
trap cleanup INT TERM
for ((i = 0; i < MAXS * 10; i++)); do
	kill -0 $DAEMON 2>/dev/null || break
	sleep 0.1
done
if kill -0 $DAEMON 2>/dev/null; then
	echo "demo: $MAXS s are up: stopping the daemon (open events get their end message)"
	kill -TERM $DAEMON
fi
rc=0
wait $DAEMON || rc=$?
sleep 0.5
kill -INT $SUB 2>/dev/null || true
wait $SUB 2>/dev/null || true
sleep 0.3
kill $SHOW 2>/dev/null || true
wait $SHOW 2>/dev/null || true
trap - INT TERM
n=$(grep -c '"type":"start"' "$OUT/events.jsonl" || true)
echo
echo "demo: daemon exited $rc; $n event(s); $(ls "$OUT/events" | wc -l) image(s) in $OUT/events; log: $OUT/daemon.log"
exit $rc
