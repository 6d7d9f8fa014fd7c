#!/usr/bin/env bash
# `prismer launch`: N processes with the torchrun environment, [rank k] prefixes, a failing rank stops the run.
set -uo pipefail
prismer=$1
source "$(dirname "$0")/testlib.sh"

"$prismer" launch --nproc 3 -- --version >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ok "three ranks succeed" || bad "three ranks: status $rc"
for r in 0 1 2; do
  grep -qE "^\[rank $r\] prismer [0-9.]+ \(plugin API" "$tmp/out" && ok "rank $r output prefixed" || bad "rank $r output"
done

"$prismer" launch --nproc 2 -- bogus >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 2 ] && grep -q "rank [01] failed (exit status 2)" "$tmp/out" && ok "a failing rank's status is returned" ||
  bad "failing rank: status $rc"

start=$(date +%s)
"$prismer" launch --nproc 2 -- run "$tmp/missing_rank$((RANDOM)).yaml" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && ok "missing pipeline file fails ($rc)" || bad "missing pipeline: status $rc"
[ $(( $(date +%s) - start )) -lt 60 ] && ok "stopped promptly" || bad "took too long"

"$prismer" launch -- --version >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q -- "--nproc N is required" "$tmp/out" && ok "--nproc required" || bad "--nproc required"
"$prismer" launch --nproc 2 >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "no prismer command" "$tmp/out" && ok "command required" || bad "command required"
"$prismer" launch --nproc zero -- --version >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "expected an integer" "$tmp/out" && ok "bad --nproc" || bad "bad --nproc"

finish
