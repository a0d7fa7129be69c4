# check.sh — what the shell tests share (sourced, not run; tests/run.sh counts
# the PASS/FAIL lines). After `. tests/check.sh NAME`: $d is a fresh folder
# /tmp/lmdd-NAME.XXXXXX removed on exit, `check name status [detail]` prints
# PASS or FAIL (with the detail's first lines) and counts failures,
# `skip name why` prints "SKIP name: why" (a test that cannot run here: counted
# as skipped, never as passed), and `check_done` exits nonzero if any check
# failed. $LMDD_DATA is the data sets' folder (default ../shared/data beside
# the checkout); `have_data REL` is true when $LMDD_DATA/REL exists.
d=$(mktemp -d "/tmp/lmdd-$1.XXXXXX")
trap 'rm -rf "$d"' EXIT
fails=0
check() { # name cond-exit-status detail
	if [ "$2" -eq 0 ]; then echo "PASS $1"; else echo "FAIL $1"; [ -n "${3:-}" ] && echo "$3" | head -30 | sed 's/^/  /'; fails=$((fails+1)); fi
}
skip() { echo "SKIP $1: $2"; }
check_done() { exit $((fails > 0)); }
LMDD_DATA=${LMDD_DATA:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/../shared/data}
export LMDD_DATA
have_data() { [ -e "$LMDD_DATA/$1" ]; }
