#!/usr/bin/env bash
# The README's first command as a test: scripts/demo.sh on the build tree's binary (no install, no
# build). Passes when v2 ends Healthy, v3 ends Degraded with v2 still stable, and nothing the demo
# started is left running. Usage: tests/demo_test.sh SLUICE_BINARY
set -uo pipefail
binary=${1:?usage: demo_test.sh SLUICE_BINARY}
source_dir=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT

SLUICE_BINARY=$binary SLUICE_DEMO_DIR=$dir "$source_dir/scripts/demo.sh" >"$dir/demo.out" 2>&1
status=$?
cat "$dir/demo.out"
failed=0
check() {
  if ! grep -Eq "$1" "$dir/demo.out"; then echo "demo_test: expected a line matching: $1"; failed=1; fi
}
[[ $status -eq 0 ]] || { echo "demo_test: demo.sh exited $status"; failed=1; }
check '^v2 result: phase=Healthy stable=[0-9a-z]+$'
v2=$(sed -n 's/^v2 result: phase=Healthy stable=\([0-9a-z]*\)$/\1/p' "$dir/demo.out")
check "^v3 result: phase=Degraded stable=$v2 \\(v2: $v2\\) canary=[0-9a-z]+$"
check '^rollout_info\{.*name="frontend".*phase="Degraded".*\} 1'
check '^analysis_run_info\{.*phase="Failed".*\} 1'
check '^analysis_run_info\{.*phase="Successful".*\} 1'
check '^live demo took [0-9]+ s$'
# Every process the demo starts names its directory on its command line.
if leftovers=$(pgrep -af -- "$dir"); then
  echo "demo_test: left running after the demo:"
  echo "$leftovers"
  failed=1
fi
exit $failed
