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
#   tools/gpu_check.sh run       # THERE: carry .gl and build-gpu, e.g.
#       run(command="bash tools/gpu_check.sh run", carry=[".gl", "build-gpu"], timeout_s=540)
#
# `run` unpacks the Vulkan loader into / (as the device notes prescribe) and
# the other libraries into /tmp/lmdd-sys (LD_LIBRARY_PATH), points the loader
# at NVIDIA's ICD if none is registered, then runs, logging to $OUT (or
# /tmp/gpu-check): test_ops against the vendor driver (every op vs the CPU
# backend), test_ops --perf (per-op ms and GFLOP/s, both backends), and
# tools/bench.py (whole LMD scoring: CPU backend, Vulkan, PyTorch CUDA);
# also the convolutions with each tile size forced (LMDD_VK_CONV_TILE).
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
	du -sh .gl $BG
	echo "prepared: carry .gl and $BG"
}

run() {
	local out=${OUT:-/tmp/gpu-check}
	mkdir -p "$out"
	if [ "${LMDD_GPU_CHECK_LOCAL:-0}" != 1 ]; then
		for f in .gl/*.deb; do dpkg -x "$f" /; done
		ldconfig
	fi
	local sys=/tmp/lmdd-sys
	mkdir -p $sys
	for f in .gl/sys/*.deb; do dpkg -x "$f" $sys; done
	export LD_LIBRARY_PATH=$sys/usr/lib/x86_64-linux-gnu/openblas-pthread:$sys/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	# the validation layer (with sync validation) for test_ops, from /tmp/lmdd-sys
	export VK_ADD_LAYER_PATH=$sys/usr/share/vulkan/explicit_layer.d
	local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
	if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f $icd ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
		export VK_DRIVER_FILES=$icd
	fi
	{
		echo "== gpu_check $(date -u +%FT%TZ) on $(hostname)"
		nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
		echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
		ldd $BG/tests/test_ops | grep -E "not found|vulkan|openblas" || true
	} 2>&1 | tee "$out/env.txt"
	echo "== test_ops (vendor driver, under the validation layer)"
	timeout 300 $BG/tests/test_ops 2>&1 | tee "$out/test_ops.txt"
	local rc=${PIPESTATUS[0]}
	echo "== test_ops without the validation layer"
	LMDD_VK_VALIDATE=0 timeout 200 $BG/tests/test_ops > "$out/test_ops_noval.txt" 2>&1
	grep -E "^(PASS|FAIL)|nmse" "$out/test_ops_noval.txt"
	echo "== test_ops --perf"
	timeout 200 $BG/tests/test_ops --perf 2>&1 | tee "$out/perf.txt"
	for t in 64 32; do
		echo "== test_ops --perf conv, LMDD_VK_CONV_TILE=$t (auto picks 32 for < 512 tiles or cout <= 32)"
		LMDD_VK_CONV_TILE=$t timeout 100 $BG/tests/test_ops --perf conv 2>&1 | tee "$out/perf_conv$t.txt"
	done
	echo "== bench (CPU backend / Vulkan / PyTorch)"
	B=$BG timeout 240 python3 tools/bench.py --json "$out/bench.json" 2>&1 | tee "$out/bench.txt"
	echo "== test_ops exit status $rc"
	return $rc
}

case "${1:-}" in
prepare) prepare ;;
run) run ;;
*) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
