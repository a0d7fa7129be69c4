#!/usr/bin/env bash
# run.sh — runs every test binary in $B/tests and the Python tests, counts the
# "PASS name" / "FAIL name" lines they print, and ends with the line
# "N passed, N failed" that CI reads. Exit status 1 if anything failed.
# A binary that crashes or prints nothing counts as one failure.
set -u
B=${B:-build}
PY=${PY:-/usr/bin/python3}
cd "$(dirname "$0")/.."
pass=0; fail=0
failed=()   # names of what failed, repeated at the end where a log tail shows them
log=$(mktemp)
for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	echo "== $t"
	"$t" >"$log" 2>&1; rc=$?
	cat "$log"
	p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $t (exit $rc)" | tee -a "$log"; f=1
	fi
	pass=$((pass + p)); fail=$((fail + f))
	[ "$f" -eq 0 ] || failed+=("$t:"$'\n'"$(grep -A6 '^FAIL ' "$log" | cut -c1-300 | head -20)")
done
for t in tests/test_*.sh; do
	[ -f "$t" ] || continue
	echo "== $t"
	B="$B" PY="$PY" bash "$t" >"$log" 2>&1; rc=$?
	cat "$log"
	p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then echo "FAIL $t (exit $rc)" | tee -a "$log"; f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	[ "$f" -eq 0 ] || failed+=("$t:"$'\n'"$(grep -A6 '^FAIL ' "$log" | cut -c1-300 | head -20)")
done
for t in tests/test_*.py train/test_*.py; do
	[ -f "$t" ] || continue
	echo "== $t"
	if grep -q '^def test_' "$t"; then
		# a pytest module: one PASS/FAIL line per test from pytest's -rA summary
		B="$B" "$PY" -m pytest -q -rA -p no:cacheprovider "$t" >"$log" 2>&1; rc=$?
		sed -n 's/^PASSED [^:]*::\([^ ]*\).*/PASS \1/p; s/^FAILED [^:]*::\([^ ]*\).*/FAIL \1/p; s/^ERROR [^:]*::\([^ ]*\).*/FAIL \1/p' "$log" >"$log.2"
		cat "$log" "$log.2" | grep -v '^PASSED \|^FAILED '
		mv "$log.2" "$log"
	else
		B="$B" "$PY" "$t" >"$log" 2>&1; rc=$?
		cat "$log"
	fi
	p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then echo "FAIL $t (exit $rc)" | tee -a "$log"; f=1; fi
	if [ "$rc" -eq 0 ] && [ "$p" -eq 0 ]; then echo "FAIL $t (ran no test)" | tee -a "$log"; f=1; fi
	pass=$((pass + p)); fail=$((fail + f))
	[ "$f" -eq 0 ] || failed+=("$t:"$'\n'"$(grep -A6 '^FAIL ' "$log" | cut -c1-300 | head -20)")
done
rm -f "$log"
[ ${#failed[@]} -eq 0 ] || echo "== what failed"
for x in "${failed[@]}"; do echo "failed in $x"; done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
