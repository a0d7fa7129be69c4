#!/usr/bin/env bash
# fresh_check.sh — `make fresh-check`: the README's two commands, typed as a
# new user types them, on a pristine Debian 12. Two roots are made with
# Debian's debootstrap (bookworm, --variant=minbase, plus only make, git and
# ca-certificates), the checkout is copied into each (tracked files and
# untracked ones git does not ignore: what a clone of this working tree
# would hold; no build folders, no ../shared beside it), and in one root
# `make test` runs first and then `make demo`, in the other the reverse.
# Each command's exit status and closing line are printed; the full logs
# stay in $FRESH_DIR/{test-first,demo-first}.make-{test,demo}.log.
#
# Needs root (debootstrap, chroot, mounts) and Debian's package mirror. Not
# part of CI: it downloads and installs hundreds of packages (~15 min per
# root on 2 cores). The pristine base is debootstrapped once and kept as
# $FRESH_DIR/base.tar (delete it to start from the mirror again).
#   FRESH_DIR     work folder (default build-fresh/)
#   FRESH_MIRROR  Debian mirror (default: the host's, else deb.debian.org)
#   FRESH_ORDERS  which roots (default "test-first demo-first")
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
DIR=${FRESH_DIR:-$SRC/build-fresh}
ORDERS=${FRESH_ORDERS:-test-first demo-first}
MIRROR=${FRESH_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

[ "$(id -u)" -eq 0 ] || { echo "fresh-check: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap; }
mkdir -p "$DIR"

if [ ! -s "$DIR/base.tar" ]; then
	echo "fresh-check: debootstrap bookworm (minbase + make git ca-certificates) from $MIRROR"
	rm -rf "$DIR/base"
	debootstrap --variant=minbase --include=make,git,ca-certificates bookworm "$DIR/base" "$MIRROR" \
		>"$DIR/debootstrap.log" 2>&1 || { tail -20 "$DIR/debootstrap.log"; exit 1; }
	tar -C "$DIR/base" -cf "$DIR/base.tar.tmp" . && mv "$DIR/base.tar.tmp" "$DIR/base.tar"
	rm -rf "$DIR/base"
fi

mounted=()
cleanup() {
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT

# run ROOT NAME CMD: one README command in the root, as root, in the clone
run() {
	local root=$1 name=$2 rc=0
	local t0=$SECONDS log="$root.${name// /-}.log"
	chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd /root/lmdd && $name" >"$log" 2>&1 </dev/null || rc=$?
	local last
	last=$(grep -v '^\s*$' "$log" | tail -1)
	printf 'fresh-check: %-10s %-10s exit %d after %d s; closing line: %s\n' "$(basename "$root")" "$name" \
		"$rc" $((SECONDS - t0)) "$last"
	return $rc
}

status=0
for order in $ORDERS; do
	root=$DIR/$order
	# never rm -rf through a bind mount of /dev or /sys left by a killed run
	if grep -q " $root/" /proc/mounts; then
		echo "fresh-check: something is still mounted under $root (umount -R it first)" >&2; exit 1
	fi
	rm -rf "$root" && mkdir -p "$root"
	tar -C "$root" -xf "$DIR/base.tar"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	mkdir -p "$root/root/lmdd"
	git -C "$SRC" ls-files -z --cached --others --exclude-standard |
		(cd "$SRC" && xargs -0 -r tar -cf - --no-recursion) | tar -C "$root/root/lmdd" -xf -
	[ ! -e "$root/root/shared" ] || { echo "fresh-check: $root/root/shared exists" >&2; exit 1; }
	for m in proc sys dev dev/pts; do
		mkdir -p "$root/$m"
		case $m in
		proc) mount -t proc proc "$root/proc" ;;
		*) mount --rbind "/$m" "$root/$m" && mount --make-rslave "$root/$m" ;;
		esac
		mounted+=("$root/$m")
	done
	case $order in
	test-first) cmds=("make test" "make demo") ;;
	demo-first) cmds=("make demo" "make test") ;;
	*) echo "fresh-check: unknown order $order" >&2; exit 64 ;;
	esac
	for c in "${cmds[@]}"; do
		run "$root" "$c" || status=1
	done
	# the demo's event line
	grep -h ' start \| end ' "$root.make-demo.log" | head -4 | sed 's/^/    demo: /' || true
	cleanup
	mounted=()
done
exit $status
