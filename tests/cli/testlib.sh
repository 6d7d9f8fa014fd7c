# What the CLI test scripts share; `source` it after `set -uo pipefail`. Gives a scratch folder $tmp (removed on
# exit), the PASS/FAIL counters and:
#   ok NAME / bad NAME              count a check (bad prints the tail of the last command's output, $tmp/out)
#   expect_status NAME STATUS PATTERN COMMAND...
#                                   runs COMMAND into $tmp/out; passes when it exits with STATUS and prints PATTERN
#   is_png FILE                     the PNG signature
#   finish                          prints the counts; the script's status (end the script with it)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -f "$tmp/out" ] && tail -n 40 "$tmp/out" | sed 's/^/    /'; }
expect_status() {
  local name=$1 want=$2 pattern=$3; shift 3
  "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ "$rc" -eq "$want" ] && grep -qE -- "$pattern" "$tmp/out"; then ok "$name"; else bad "$name (status $rc, wanted $want and /$pattern/)"; fi
}
is_png() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e47" ]; }
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
