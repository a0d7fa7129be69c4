#!/usr/bin/env bash
# install-deps.sh — installs (Debian 12 apt) everything lmdd needs to build,
# test and run its demo. Idempotent and fast when nothing is missing: one
# dpkg-query for all packages; `apt-get update` and `apt-get install` run only
# for what is missing. Needs root (or sudo) only in that case.
#   tools/install-deps.sh          install what is missing
#   tools/install-deps.sh --check  list what is missing, exit 1 if anything
set -euo pipefail

PKGS=(
	# build
	build-essential pkg-config clang libclang-rt-14-dev zlib1g-dev
	# FFmpeg (decode, scale, devices, JPEG/PNG encode, motion estimation) and its CLI (tests, demo)
	libavformat-dev libavcodec-dev libavfilter-dev libavutil-dev libswscale-dev libavdevice-dev ffmpeg
	# Vulkan backend: headers, shader compiler, a CPU driver (lavapipe), tools
	libvulkan-dev glslc mesa-vulkan-drivers vulkan-tools vulkan-validationlayers
	# CPU backend
	libopenblas-dev libopenblas0-pthread
	# daemon: ZeroMQ (+CURVE), sd_notify, INI, JSON
	libzmq3-dev libsystemd-dev libinih-dev libcjson-dev systemd
	# training, evaluation and Python tests
	python3-torch python3-numpy python3-matplotlib python3-pytest python3-zmq dataset-fashion-mnist
	# RTSP test server (tools/rtsp_server.py)
	python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good gstreamer1.0-plugins-base
)

declare -A state=()
while read -r name status; do
	state[$name]=$status
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PKGS[@]}" 2>/dev/null || true)
missing=()
for p in "${PKGS[@]}"; do
	[ "${state[$p]:-}" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi
if [ "${1:-}" = "--check" ]; then
	echo "install-deps: missing: ${missing[*]}"
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
