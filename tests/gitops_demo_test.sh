#!/usr/bin/env bash
# The GitOps demo as a test: scripts/demo.sh --gitops on the build tree's binary. Passes when every
# Kustomization bootstrapped from examples/gitops is Ready, the commit of frontend 2.0 is canaried to
# Healthy with a new stable ReplicaSet and every Kustomization Ready at that commit, the commit of 3.0
# (which fails its analysis) is aborted back to 2.0 and stays aborted when the Kustomization applies it
# again, the trees list what git put in the cluster, and nothing the demo started is left running.
# Usage: tests/gitops_demo_test.sh SLUICE_BINARY
set -uo pipefail
binary=${1:?usage: gitops_demo_test.sh SLUICE_BINARY}
source_dir=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-gitops-demo-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT

SLUICE_BINARY=$binary SLUICE_DEMO_DIR=$dir "$source_dir/scripts/demo.sh" --gitops >"$dir/demo.out" 2>&1
status=$?
cat "$dir/demo.out"
failed=0
check() {
  if ! grep -Eq -- "$1" "$dir/demo.out"; then echo "gitops_demo_test: expected a line matching: $1"; failed=1; fi
}
[[ $status -eq 0 ]] || { echo "gitops_demo_test: demo.sh --gitops exited $status"; failed=1; }
check '^v2 result: phase=Healthy stable=[0-9a-z]+ image=registry.example/frontend:2.0$'
commit=$(sed -n 's/^gitops result: every Kustomization Ready at main@sha1:\([0-9a-f]\{40\}\)$/\1/p' "$dir/demo.out")
[[ -n "$commit" ]] || { echo "gitops_demo_test: no 'gitops result' line"; failed=1; }
# The table after 2.0: each Kustomization at that commit, Ready.
for ks in cluster infrastructure frontend; do
  check "^$ks +main@sha1:$commit +False +True "
done
# 3.0 fails its analysis: aborted back to 2.0, and the Kustomization says why.
v2=$(sed -n 's/^v2 result: phase=Healthy stable=\([0-9a-z]*\) .*$/\1/p' "$dir/demo.out")
check "^v3 result: phase=Degraded stable=$v2 \\(v2: $v2\\) image=registry.example/frontend:3.0$"
check '^frontend +main@sha1:[0-9a-f]{40} +False +False +.*Rollout is Degraded'
# The next apply of the same spec (a reconcile the controller handled, still failing its health check)
# leaves the aborted Rollout as it is.
check "^✗ Rollout/production/frontend status: 'Failed': Rollout is Degraded"
generation=$(sed -n 's/^after another apply: .*(before: \([0-9]*\)).*$/\1/p' "$dir/demo.out")
check "^after another apply: phase=Degraded generation=$generation \\(before: $generation\\) stable=$v2$"
# The trees: what the example's files hold, as the Kustomizations' inventories list it.
check '^Kustomization/sluice-system/infrastructure$'
check 'Namespace/production$'
check 'ClusterAnalysisTemplate/success-rate$'
check '^Kustomization/sluice-system/frontend$'
check 'Rollout/production/frontend$'
check 'Ingress/production/frontend$'
check '^live demo took [0-9]+ s$'
# Every process the demo starts names its directory on its command line.
if leftovers=$(pgrep -af -- "$dir"); then
  echo "gitops_demo_test: left running after the demo:"
  echo "$leftovers"
  failed=1
fi
exit $failed
