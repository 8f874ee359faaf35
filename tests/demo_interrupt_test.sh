#!/usr/bin/env bash
# Ctrl-C in the middle of scripts/demo.sh: the script exits 130 and stops the cluster, the controller and
# Prometheus it started. Usage: tests/demo_interrupt_test.sh SLUICE_BINARY
set -uo pipefail
binary=${1:?usage: demo_interrupt_test.sh SLUICE_BINARY}
source_dir=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo-int.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# With job control the demo runs in a process group of its own with SIGINT handled as in a terminal's
# job (without it, a background job ignores SIGINT); Ctrl-C signals the whole group.
set -m
SLUICE_BINARY=$binary SLUICE_DEMO_DIR=$dir "$source_dir/scripts/demo.sh" >"$dir/demo.out" 2>&1 &
demo=$!
set +m
for _ in $(seq 600); do
  grep -q "^== v2" "$dir/demo.out" && break
  kill -0 "$demo" 2>/dev/null || break
  sleep 0.2
done
failed=0
if ! grep -q "^== v2" "$dir/demo.out"; then echo "demo_interrupt_test: the demo never reached v2"; failed=1; fi
running=$(pgrep -f -- "$dir" | wc -l)
kill -INT -- "-$demo"
wait "$demo"
status=$?
cat "$dir/demo.out"
echo "demo_interrupt_test: $running processes of the demo ran before Ctrl-C; demo.sh exited $status"
[[ $running -ge 3 ]] || { echo "demo_interrupt_test: expected the cluster, controller and Prometheus running"; failed=1; }
[[ $status -eq 130 ]] || { echo "demo_interrupt_test: expected exit status 130"; failed=1; }
if leftovers=$(pgrep -af -- "$dir"); then
  echo "demo_interrupt_test: left running after Ctrl-C:"
  echo "$leftovers"
  failed=1
fi
exit $failed
