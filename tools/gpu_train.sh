#!/usr/bin/env bash
# gpu_train.sh — train the image models on a lent CUDA GPU, inside one device call.
#
# A device session has minutes of GPU time, not hours, so this starts four
# trainings at once on the one GPU (models this small leave most of it idle,
# so they overlap), runs the command given as its arguments meanwhile (the
# Vulkan parity check, which does not need a quiet GPU), waits for the
# trainings, copies each run's model file to $OUT and its log to $GPU_LOGS:
#
#   fashion-mnist-32   the shipped Fashion-MNIST model, warm-started (same
#                      architecture: base 32, 1.6 M parameters), batch 128
#   mnist-32           the same for MNIST
#   fashion-mnist-48   base 48 (3.6 M parameters) from scratch: does capacity
#                      help, and what would it cost at scoring time (2.25x)?
#   mnist-48           the same for MNIST, with dropout 0.1: its training set
#                      is 5,000 images (MNIST test 0..4999, lmdd eval's rule)
#   ucsd-ped2          the shipped Ped2 model (two previous frames), warm-
#                      started, batch 64 (on request: GPU_ONLY)
#
# The runs use the trainer unchanged (train/train.py; --device defaults to
# cuda). Which of them is worth a full `lmdd eval` is decided afterwards, on
# this machine, by research/screen.py (paired, random subset), not on the GPU.
#
#   tools/gpu_train.sh prepare      # HERE: data into .gpudata/ (Fashion-MNIST
#                                   # train as xz: the call's tree must stay
#                                   # under 64 MiB), MNIST test, Ped2 train as
#                                   # the trainer's frame cache
#   tools/gpu_train.sh run CMD...   # THERE, carrying .gpudata (and what CMD needs)
#
# GPU_ONLY="NAME ..." picks some of the runs; GPU_INIT=DIR warm-starts each
# from DIR/NAME.safetensors (a later call going on from an earlier one's files).
# TRAIN_S (default 300) is each run's --time-budget in seconds; PY the Python
# with PyTorch (default python3: the GPU image's).
set -u
cd "$(dirname "$0")/.."
D=.gpudata
PED2=${LMDD_DATA:-../shared/data}/ucsd-ped2/train

prepare() {
	set -e
	grep -qx '/.gpudata/' .git/info/exclude 2>/dev/null || echo /.gpudata/ >> .git/info/exclude
	mkdir -p $D
	zcat /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz | xz -9e -T2 > $D/fmnist-train-images-idx3-ubyte.xz
	cp "${LMDD_DATA:-../shared/data}"/mnist/t10k-images-idx3-ubyte.gz $D/mnist-t10k-images-idx3-ubyte.gz
	# Ped2: the trainer's own frame cache for these flags (decoded here, where
	# ffmpeg is) plus each clip's size and mtime, so that stand-in files at the
	# same paths there hit the cache and the GPU image needs no ffmpeg.
	/usr/bin/python3 - "$PED2" $D/ped2.manifest /tmp/gpu-ped2-cache <<'PY'
import os, sys
sys.path.insert(0, "train")
import data
src, man, cache = sys.argv[1:]
opts = data.DecodeOptions(channels=1, size=(180, 120))
with open(man, "w") as f:
    for kind, path, images in data._leaves(src):
        data.decode_leaf(kind, path, images, opts, cache)
        st = os.stat(path)
        f.write(f"{os.path.abspath(path)} {st.st_size} {st.st_mtime_ns}\n")
PY
	tar cf - -C /tmp/gpu-ped2-cache . | xz -9 -T2 > $D/ped2-cache.tar.xz
	du -sh $D/*
}

run() {
	local logs=${GPU_LOGS:-/tmp/gpu-logs} runs=${GPU_RUNS:-/tmp/gpu-runs} out=${OUT:-/tmp/gpu-out}
	mkdir -p "$logs" "$runs" "$out"
	local names=${GPU_ONLY:-fashion-mnist-32 mnist-32 fashion-mnist-48 mnist-48}
	local fm=/tmp/fmnist-train-images-idx3-ubyte mn=$D/mnist-t10k-images-idx3-ubyte.gz
	local cache=/tmp/gpu-cache
	mkdir -p $cache
	case " $names " in *" fashion-mnist"*)
		${PY:-python3} -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" \
			$D/fmnist-train-images-idx3-ubyte.xz $fm || return 1 ;;
	esac
	case " $names " in *" ucsd-ped2 "*)
		tar xJf $D/ped2-cache.tar.xz -C $cache || return 1
		while read -r path size mtime; do # stand-ins: same path, size and mtime
			mkdir -p "$(dirname "$path")"
			[ -e "$path" ] || ${PY:-python3} -c "import os, sys; open(sys.argv[1], 'wb').truncate(int(sys.argv[2])); os.utime(sys.argv[1], ns=(int(sys.argv[3]),) * 2)" "$path" $size $mtime
		done < $D/ped2.manifest ;;
	esac
	local img="--size 32x32 --channel-mult 1,2,2 --num-res-blocks 2 --attn-levels 2 --groups 8 --schedule linear --batch 128"
	local opt="--lr 2e-4 --ema 0.999 --threads 2 --cache-dir $cache --time-budget ${TRAIN_S:-300}"
	local pids=""
	start() { # name, then the trainer's flags
		local n=$1
		shift
		PYTHONUNBUFFERED=1 ${PY:-python3} train/train.py --out $runs/$n $opt "$@" \
			> "$logs/train-$n.log" 2>&1 &
		pids="$pids $!"
	}
	for n in $names; do
		local init=""
		case $n in
		*-32) init="--init models/${n%-32}/model.safetensors --warmup 200" ;;
		ucsd-ped2) init="--init models/ucsd-ped2/model.safetensors --warmup 200" ;;
		esac
		if [ -n "${GPU_INIT:-}" ] && [ -e "$GPU_INIT/$n.safetensors" ]; then # a later call: go on from an earlier one
			init="--init $GPU_INIT/$n.safetensors --warmup 200"
		fi
		case $n in
		fashion-mnist-32) start $n --name fashion-mnist --data $fm $img --base-channels 32 $init ;;
		mnist-32) start $n --name mnist --data $mn --limit 5000 $img --base-channels 32 $init ;;
		fashion-mnist-48) start $n --name fashion-mnist --data $fm $img --base-channels 48 $init ;;
		mnist-48) start $n --name mnist --data $mn --limit 5000 $img --base-channels 48 --dropout 0.1 $init ;;
		ucsd-ped2) start $n --name ucsd-ped2-cond --data $PED2 --size 180x120 --crop 64 --flip --cond-frames 2 \
			--base-channels 32 --channel-mult 1,2,2,2 --num-res-blocks 2 --attn-levels 3 --groups 8 \
			--schedule linear --batch 64 $init ;;
		*) echo "gpu_train: unknown run $n" >&2; return 2 ;;
		esac
	done
	echo "== gpu_train: trainings started ($names) ($(date -u +%T)), ${TRAIN_S:-300} s each"
	(sleep 90; nvidia-smi --query-gpu=utilization.gpu,memory.used,clocks.sm --format=csv > "$logs/smi-train.txt" 2>&1) &
	if [ $# -gt 0 ]; then
		"$@"
	fi
	local rc=0
	for p in $pids; do
		wait "$p" || rc=1
	done
	echo "== gpu_train: trainings ended ($(date -u +%T)), status $rc"
	for n in $names; do
		cp $runs/$n/model.safetensors "$out/$n.safetensors" 2>/dev/null || echo "$n: no model file"
		cp $runs/$n/loss.png "$logs/loss-$n.png" 2>/dev/null
		tr '\r' '\n' < "$logs/train-$n.log" | grep -v '^$' | tail -n 3
	done
	cat "$logs/smi-train.txt" 2>/dev/null
	[ -n "${OUT:-}" ] && tar czf "$OUT/logs.tgz" -C "$logs" . 2>/dev/null
	return $rc
}

case "${1:-}" in
prepare) prepare ;;
run) shift; run "$@" ;;
*) echo "usage: $0 prepare | run [CMD...]" >&2; exit 2 ;;
esac
