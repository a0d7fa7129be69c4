# check.sh — what the shell tests share (sourced, not run; tests/run.sh counts
# the PASS/FAIL lines). After `. tests/check.sh NAME`: $d is a fresh folder
# /tmp/lmdd-NAME.XXXXXX removed on exit, `check name status [detail]` prints
# PASS or FAIL (with the detail's first lines) and counts failures, and
# `check_done` exits nonzero if any check failed.
d=$(mktemp -d "/tmp/lmdd-$1.XXXXXX")
trap 'rm -rf "$d"' EXIT
fails=0
check() { # name cond-exit-status detail
	if [ "$2" -eq 0 ]; then echo "PASS $1"; else echo "FAIL $1"; [ -n "${3:-}" ] && echo "$3" | head -30 | sed 's/^/  /'; fails=$((fails+1)); fi
}
check_done() { exit $((fails > 0)); }
