#!/usr/bin/env bash
# make_daemon_fixture.sh — regenerates tests/fixtures/daemon-gray.safetensors,
# the small trained model the daemon's end-to-end tests use.
#
# Why a trained model: a random-weight network's reconstruction error is
# dominated by its own noise and barely depends on the frame, so no threshold
# separates normal from anomalous frames. This one (48x32 gray, 41k
# parameters) is trained for 300 steps on "normal" video, a 0x404040 grey
# field with light temporal noise; a patch of random black/white pixels (the
# tests' synthetic anomaly) cannot be inpainted from its surroundings and
# scores ~25x higher (0.006-0.008 vs 0.0002-0.0004 with steps 5, reps 2,
# t0 300). Takes 1-10 minutes on 2 CPU cores depending on load.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ffmpeg -v error -y -f lavfi -i "color=c=0x404040:s=192x128:r=10:d=10" \
	-vf "noise=alls=6:allf=t" -c:v mjpeg -q:v 3 "$tmp/train.mkv"
/usr/bin/python3 train/train.py --data "$tmp/train.mkv" --size 48x32 \
	--base-channels 8 --channel-mult 1,2 --num-res-blocks 1 --attn-levels '' --groups 4 \
	--batch 16 --max-steps 300 --lr 2e-3 --warmup 20 --threads 2 --seed 0 \
	--out "$tmp/run" --publish "$tmp/pub" --cache-dir "$tmp/cache" --name tiny-gray \
	--log-every 100 || true   # the model file is written before the model card
mkdir -p tests/fixtures
cp "$tmp/pub/model.safetensors" tests/fixtures/daemon-gray.safetensors
echo "wrote tests/fixtures/daemon-gray.safetensors"
