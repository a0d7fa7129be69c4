#!/usr/bin/env bash
# test_run.sh — what tests/run.sh counts: PASS, FAIL and "SKIP name: why"
# lines of shell and Python tests and pytest modules (a skipped pytest test
# is a skip), a program that prints no result or exits nonzero without a
# FAIL line is one failure, a skip is never a pass; the closing line is
# "N passed, N failed, N skipped" and the exit status 1 when anything
# failed. And a test that cannot run prints SKIP lines, not nothing:
# test_ops with LMDD_NO_VULKAN=1 on a machine without a Vulkan driver.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
. tests/check.sh run
t=$d/t
mkdir "$t"
echo 'echo "PASS a"' >"$t/test_pass.sh"
echo 'echo "SKIP b: no data here"' >"$t/test_skip.sh"
echo 'exit 0' >"$t/test_silent.sh"
printf 'echo "PASS c"\nexit 3\n' >"$t/test_crash.sh"
printf 'import pytest\n\ndef test_x():\n    pytest.skip("no device")\n\ndef test_y():\n    pass\n' >"$t/test_mod.py"
out=$(B=$B tests/run.sh "$t" 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$(tail -1 <<<"$out")" = "3 passed, 2 failed, 2 skipped" ] &&
	grep -q "^FAIL $t/test_silent.sh (printed no result)$" <<<"$out" &&
	grep -q "^FAIL $t/test_crash.sh (exit 3)$" <<<"$out" && grep -q '^SKIP test_x: no device' <<<"$out"
check run_counts_pass_fail_skip $? "rc=$rc $out"

if [ -x "$B/tests/test_ops" ]; then
	out=$(LMDD_NO_VULKAN=1 VK_ICD_FILENAMES=/nonexistent "$B/tests/test_ops" 2>&1); rc=$?
	want=$(grep -c '^		RUN(' tests/test_ops.c)
	[ $rc -eq 0 ] && [ "$(grep -c '^SKIP [a-z_0-9]*: no Vulkan device' <<<"$out")" -eq "$want" ] &&
		! grep -q '^PASS\|^FAIL' <<<"$out"
	check run_ops_without_vulkan_skips $? "rc=$rc want $want SKIP lines: $out"
else
	check run_ops_without_vulkan_skips 1 "$B/tests/test_ops not built"
fi
check_done
