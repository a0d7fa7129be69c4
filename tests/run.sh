#!/usr/bin/env bash
# run.sh — runs every test binary in $B/tests and the Python tests, counts the
# "PASS name" / "FAIL name" / "SKIP name: why" lines they print, and ends with
# the line "N passed, N failed, N skipped" that CI reads. Exit status 1 if
# anything failed. A program that crashes, exits nonzero without a FAIL line,
# or prints no result line at all counts as one failure; a skip is never a
# pass. Data sets that some tests need are looked for in $LMDD_DATA (default
# ../shared/data beside the checkout); without them those tests are skipped.
# Arguments: the folders whose tests to run (default: tests train, which is
# `make test`; `make research-test` runs research), or test files themselves
# (`make test-tsan` names the threaded ones). The C test binaries
# ($B/tests/test_*) belong to the folder tests.
set -u
B=${B:-build}
PY=${PY:-/usr/bin/python3}
cd "$(dirname "$0")/.."
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(tests train)
bins=(); shs=(); pys=()
for x in "${dirs[@]}"; do
	case $x in
	*.sh) shs+=("$x") ;;
	*.py) pys+=("$x") ;;
	*) if [ -d "$x" ]; then
		[ "$x" = tests ] && bins+=("$B"/tests/test_*)
		shs+=("$x"/test_*.sh); pys+=("$x"/test_*.py)
	   else
		bins+=("$x")
	   fi ;;
	esac
done
pass=0; fail=0; skip=0
LMDD_DATA=${LMDD_DATA:-$PWD/../shared/data}
export LMDD_DATA
failed=()   # names of what failed, repeated at the end where a log tail shows them
log=$(mktemp)
# tally NAME RC: count the result lines in $log
tally() {
	local p f s
	p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then echo "FAIL $1 (exit $2)" | tee -a "$log"; f=1; fi
	if [ "$2" -eq 0 ] && [ $((p + f + s)) -eq 0 ]; then echo "FAIL $1 (printed no result)" | tee -a "$log"; f=1; fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	[ "$f" -eq 0 ] || failed+=("$1:"$'\n'"$(grep -A6 '^FAIL ' "$log" | cut -c1-300 | head -20)")
}
for t in "${bins[@]}"; do
	[ -x "$t" ] || continue
	echo "== $t"
	"$t" >"$log" 2>&1; rc=$?
	cat "$log"
	tally "$t" "$rc"
done
for t in "${shs[@]}"; do
	[ -f "$t" ] || continue
	echo "== $t"
	B="$B" PY="$PY" bash "$t" >"$log" 2>&1; rc=$?
	cat "$log"
	tally "$t" "$rc"
done
for t in "${pys[@]}"; do
	[ -f "$t" ] || continue
	echo "== $t"
	if grep -q '^def test_' "$t"; then
		# a pytest module: one PASS/FAIL line per test from pytest's -rA summary
		# (-v: a skipped test's line names it: "FILE::NAME SKIPPED (why)")
		B="$B" "$PY" -m pytest -v -rA -p no:cacheprovider "$t" >"$log" 2>&1; rc=$?
		[ "$rc" -eq 5 ] && rc=0   # pytest: no test collected (run.sh then says "printed no result")
		sed -n 's/^PASSED [^:]*::\([^ ]*\).*/PASS \1/p; s/^FAILED [^:]*::\([^ ]*\).*/FAIL \1/p; s/^ERROR [^:]*::\([^ ]*\).*/FAIL \1/p
			s/^[^ ]*::\([^ ]*\) SKIPPED *(\(.*\)).*/SKIP \1: \2/p; s/^[^ ]*::\([^ ]*\) SKIPPED *\[.*/SKIP \1: skipped/p' "$log" >"$log.2"
		cat "$log" "$log.2" | grep -v '^PASSED \|^FAILED \|^SKIPPED \|::.* \(PASSED\|FAILED\|SKIPPED\|ERROR\)'
		mv "$log.2" "$log"
	else
		B="$B" "$PY" "$t" >"$log" 2>&1; rc=$?
		cat "$log"
	fi
	tally "$t" "$rc"
done
rm -f "$log"
[ ${#failed[@]} -eq 0 ] || echo "== what failed"
for x in "${failed[@]}"; do echo "failed in $x"; done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
