#!/usr/bin/env bash
# gpu_check.sh — the Vulkan backend's checks on a real GPU, in one script.
#
# Two steps, because the GPU machine (NVIDIA H100/H200, Vulkan driver, PyTorch
# CUDA, no internet, maybe no glslc and no -dev packages) cannot fetch or build
# everything itself:
#
#   tools/gpu_check.sh prepare   # HERE (Debian, apt reachable): fetch the runtime
#                                # .debs into .gl/, build build-gpu/ (SPIR-V
#                                # compiled here, binaries linked only against
#                                # libvulkan, OpenBLAS, cJSON, libgomp)
#   tools/gpu_check.sh run       # THERE: carry .gl and build-gpu/tests, e.g.
#       run(command="bash tools/gpu_check.sh run", carry=[".gl", "build-gpu/tests"], timeout_s=400)
#
# `run` = `parity`, `fp16`, then `perf`. Each phase unpacks (once) the Vulkan loader
# into / (as the device notes prescribe) and the other libraries into
# /tmp/lmdd-sys (LD_LIBRARY_PATH), points the loader at NVIDIA's ICD if none
# is registered, logs to $GPU_LOGS (/tmp/gpu-logs) and packs that folder into
# $OUT/logs.tgz when it ends (the device tool returns at most 8 files).
#   parity: test_ops against the vendor driver (every op vs the CPU backend),
#           with and without the validation layer; timing-independent, so it
#           may overlap other GPU work (tools/gpu_train.sh runs it so).
#   fp16:   the fp16 convolutions (LMDD_VK_FP16=1, docs/vulkan.md) on the
#           vendor driver: test_lowp (every conv shape against a float64
#           reference, fp16 and the fp32 fallback), per-conv speed of both
#           (test_ops --perf conv, each mode), and the shipped Ped2 model's
#           score and speed with and without fp16 (tool_bench, 1 and 8
#           frames; score0 is the first frame's score, to compare).
#   perf:   test_ops --perf (per-op ms and GFLOP/s, both backends), whole LMD
#           scoring of the shipped models (tool_bench: 32x32 digits in
#           batches, one and eight 180x120 Ped2 frames), and tools/bench.py
#           (CPU backend, Vulkan, PyTorch CUDA on the same work).
# Binaries built on Debian 12 (glibc 2.36) run on the GPU image's newer glibc.
# LMDD_GPU_CHECK_LOCAL=1 skips the unpacking into / (dry run on this machine).
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BG=build-gpu
DEBS_ROOT="libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2"
DEBS_SYS="libopenblas0-pthread libgfortran5 libquadmath0 libcjson1 vulkan-validationlayers"

prepare() {
	set -e
	grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >> .git/info/exclude
	grep -qx '/build-gpu/' .git/info/exclude 2>/dev/null || echo /build-gpu/ >> .git/info/exclude
	mkdir -p .gl/sys /tmp/amd64/partial
	o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
	apt-get $o update >/dev/null
	(cd .gl && apt-get $o download $DEBS_ROOT)
	(cd .gl/sys && apt-get $o download $DEBS_SYS)
	make build/shaders.h          # glslc here; the GPU machine may lack it
	mkdir -p $BG/tests $BG/compute
	local CF="-O2 -g -std=gnu11 -fopenmp -pthread -march=x86-64-v2 -mtune=generic -Icompute -Ibuild -Itests \
	          $(pkg-config --cflags openblas libcjson)"
	local LIBS="-lvulkan $(pkg-config --libs openblas libcjson) -lm"
	for f in compute/*.c; do cc $CF -c -o $BG/compute/$(basename "$f" .c).o "$f"; done
	ar rcs $BG/libcompute.a $BG/compute/*.o
	cc $CF -o $BG/tests/test_ops tests/test_ops.c $BG/libcompute.a -fopenmp $LIBS
	cc $CF -o $BG/tests/tool_bench tests/tool_bench.c $BG/libcompute.a -fopenmp $LIBS
	cc $CF -o $BG/tests/tool_lmd tests/tool_lmd.c $BG/libcompute.a -fopenmp $LIBS
	cc $CF -o $BG/tests/test_lowp tests/test_lowp.c $BG/libcompute.a -fopenmp $LIBS
	du -sh .gl $BG
	echo "prepared: carry .gl and $BG/tests"
}

# The environment for the engine's binaries there: the Vulkan loader into /,
# OpenBLAS/cJSON/validation layer into /tmp/lmdd-sys, NVIDIA's ICD if none is
# registered. Idempotent (each phase calls it).
setup() {
	LOGS=${GPU_LOGS:-/tmp/gpu-logs}
	mkdir -p "$LOGS"
	if [ "${LMDD_GPU_CHECK_LOCAL:-0}" != 1 ] && [ ! -e /tmp/lmdd-sys/.done ]; then
		for f in .gl/*.deb; do dpkg -x "$f" /; done
		ldconfig
	fi
	local sys=/tmp/lmdd-sys
	if [ ! -e $sys/.done ]; then
		mkdir -p $sys
		for f in .gl/sys/*.deb; do dpkg -x "$f" $sys; done
		touch $sys/.done
	fi
	export LD_LIBRARY_PATH=$sys/usr/lib/x86_64-linux-gnu/openblas-pthread:$sys/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	# the validation layer (with sync validation) for test_ops, from /tmp/lmdd-sys
	export VK_ADD_LAYER_PATH=$sys/usr/share/vulkan/explicit_layer.d
	local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
	if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f $icd ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
		export VK_DRIVER_FILES=$icd
	fi
}

# Everything under $LOGS comes back as one file: the device tool returns at
# most 8 files. Called after each phase, so a call cut short keeps the rest.
pack() {
	[ -n "${OUT:-}" ] && tar czf "$OUT/logs.tgz" -C "$LOGS" . 2>/dev/null
	return 0
}

# Every op against the CPU backend on the vendor driver, with and without the
# validation layer. Timing-independent: may share the GPU with other work.
parity() {
	setup
	{
		echo "== gpu_check $(date -u +%FT%TZ) on $(hostname)"
		nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv,noheader 2>&1
		echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
		ldd $BG/tests/test_ops | grep -E "not found|vulkan|openblas" || true
	} 2>&1 | tee "$LOGS/env.txt"
	echo "== test_ops (vendor driver, under the validation layer)"
	timeout ${PARITY_S:-300} $BG/tests/test_ops > "$LOGS/test_ops.txt" 2>&1
	local rc=$?
	grep -E "^(PASS|FAIL)|passed|failed" "$LOGS/test_ops.txt" | tail -n 40
	echo "== test_ops without the validation layer"
	LMDD_VK_VALIDATE=0 timeout 100 $BG/tests/test_ops > "$LOGS/test_ops_noval.txt" 2>&1
	echo "exit $?"; tail -n 3 "$LOGS/test_ops_noval.txt"
	echo "== test_ops exit status $rc (under validation)"
	pack
	return $rc
}

# The fp16 path: parity against float64 (and the fp32 fallback), then its
# speed against fp32 per conv and on the shipped Ped2 model, with the score
# of each to compare. The speed part needs the GPU to itself.
fp16() {
	setup
	echo "== test_lowp (fp16 and fp32 convolutions vs float64)"
	timeout 120 $BG/tests/test_lowp > "$LOGS/test_lowp.txt" 2>&1
	local rc=$?
	grep -E "^(PASS|FAIL|SKIP)|nmse" "$LOGS/test_lowp.txt" | tail -n 20
	for f in 0 1; do
		echo "== test_ops --perf conv, LMDD_VK_FP16=$f"
		LMDD_VK_FP16=$f timeout 60 $BG/tests/test_ops --perf conv > "$LOGS/perf_conv_fp16_$f.txt" 2>&1
		tail -n 12 "$LOGS/perf_conv_fp16_$f.txt"
	done
	echo "== Ped2 model, Vulkan fp32 vs fp16 (tool_bench: N H W steps reps runs; score0 to compare)"
	for n in 1 8; do
		for f in 0 1; do
			echo "ped2 n=$n LMDD_VK_FP16=$f: $(LMDD_VK_FP16=$f timeout 60 $BG/tests/tool_bench models/ucsd-ped2/model.safetensors vulkan $n 120 180 10 2 5 2>&1)"
		done
	done | tee "$LOGS/fp16_models.txt"
	echo "ped2 n=1 cpu: $(timeout 60 $BG/tests/tool_bench models/ucsd-ped2/model.safetensors cpu 1 120 180 10 2 1 2>&1)" | tee -a "$LOGS/fp16_models.txt"
	echo "== test_lowp exit status $rc"
	pack
	return $rc
}

# Speed: needs the GPU to itself.
perf() {
	setup
	echo "== test_ops --perf"
	timeout 100 $BG/tests/test_ops --perf > "$LOGS/perf.txt" 2>&1
	tail -n 30 "$LOGS/perf.txt"
	pack
	echo "== whole LMD scoring, shipped models, Vulkan (tool_bench: N H W steps reps runs)"
	for m in "fashion-mnist 8 32 32" "fashion-mnist 64 32 32" "fashion-mnist 512 32 32" "ucsd-ped2 1 120 180" "ucsd-ped2 8 120 180"; do
		set -- $m
		echo "$m: $(timeout 60 $BG/tests/tool_bench models/$1/model.safetensors vulkan $2 $3 $4 10 2 5 2>&1)"
	done | tee "$LOGS/models.txt"
	pack
	echo "== bench (CPU backend / Vulkan / PyTorch)"
	B=$BG timeout 150 python3 tools/bench.py --json "$LOGS/bench.json" > "$LOGS/bench.txt" 2>&1
	tail -n 25 "$LOGS/bench.txt"
	pack
}

case "${1:-}" in
prepare) prepare ;;
parity) parity ;;
fp16) fp16 ;;
perf) perf ;;
run) parity; rc=$?; fp16 || rc=$?; perf; exit $rc ;;
*) echo "usage: $0 prepare|parity|fp16|perf|run" >&2; exit 2 ;;
esac
