#!/usr/bin/env bash
# Quick start: installs what is missing, builds, simulates the example canary plan (a table on the
# terminal and an SVG chart in out/canary-nginx.svg), then runs the real thing on the embedded cluster:
# the controller rolls out a healthy v2 and a bad v3, judged by a real Prometheus, and v3 is aborted.
#
# `scripts/demo.sh --gitops` runs the same cluster, controller and Prometheus, but nothing is applied by
# hand past the bootstrap: examples/gitops becomes a local git repository, its clusters/production/ is
# applied once, the controller applies the rest from git, a commit of a new image tag is canaried, and
# one whose analysis fails is aborted and stays aborted when the same spec is applied again.
#
# Environment: SLUICE_BINARY=PATH skips the install and the build and runs that sluice binary;
# SLUICE_DEMO_DIR=DIR keeps the demo's files (cluster data, logs, Prometheus storage, chart) in DIR
# instead of a temporary directory and out/.
set -euo pipefail
cd "$(dirname "$0")/.."

gitops=false
case "${1:-}" in
  "") ;;
  --gitops) gitops=true ;;
  *) echo "usage: scripts/demo.sh [--gitops]" >&2; exit 2 ;;
esac

if [[ -n "${SLUICE_BINARY:-}" ]]; then
  sluice=$SLUICE_BINARY
else
  scripts/bootstrap.sh build
  sluice=build/sluice
fi
tools=(kubectl prometheus curl jq)
if $gitops; then tools+=(git); fi
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || { echo "demo: $tool is not on PATH" >&2; exit 1; }
done

# ---- 1. The simulation: what the plan will do, before it meets a cluster ----
if ! $gitops; then
  out=${SLUICE_DEMO_DIR:-out}
  mkdir -p "$out"
  "$sluice" sim examples/canary-nginx/rollout.yaml --scenario examples/canary-nginx/scenario.yaml \
    --svg "$out/canary-nginx.svg"
  echo "chart: $out/canary-nginx.svg (open it in a browser)"
fi

# ---- 2. The real thing: cluster, controller and Prometheus on loopback ----
started=$SECONDS
work=${SLUICE_DEMO_DIR:-}
if [[ -z "$work" ]]; then work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX"); fi
work=$(cd "$work" && pwd)
pids=()

# The servers below run in sessions of their own (setsid), so that Ctrl-C reaches only this script, and
# all of them are stopped here, on any exit: success, failure or Ctrl-C.
cleanup() {
  local status=$?
  trap - EXIT
  trap '' INT TERM  # a second Ctrl-C must not cut the clean-up short
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [[ -z "${SLUICE_DEMO_DIR:-}" ]]; then rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "demo: $*" >&2
  for log in "$work"/*.log; do echo "---- $log (last lines)" >&2; tail -n 20 "$log" >&2; done
  exit 1
}

# Waits up to $1 seconds for the command that follows to succeed.
wait_for() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

echo
echo "== live: the embedded cluster, the controller and Prometheus (files in $work)"
setsid "$sluice" cluster --data-dir "$work/cluster" --port 0 --pod-ready-after 2s --traffic-metrics-addr 127.0.0.1:0 \
  >"$work/cluster.log" 2>&1 &
pids+=($!)
wait_for 30 grep -q "^Data plane metrics: " "$work/cluster.log" || fail "the cluster did not start"
export KUBECONFIG="$work/cluster/kubeconfig" KUBECACHEDIR="$work/kube-cache"
data_plane=$(sed -n 's|^Data plane metrics: http://\(.*\)/metrics$|\1|p' "$work/cluster.log")
echo "cluster: $(head -n 1 "$work/cluster.log" | sed 's/^sluice cluster: //'); data plane on $data_plane"

kubectl apply -k crds/ >/dev/null
wait_for 30 kubectl get rollouts || fail "the Rollout CRD is not served"

controller_flags=()
# The GitRepository's git cache and artifacts go with the demo's other files.
if $gitops; then controller_flags+=(--storage-path "$work/storage"); fi
setsid "$sluice" controller --kubeconfig "$KUBECONFIG" --leader-elect=false --metrics-addr 127.0.0.1:0 \
  --health-addr 127.0.0.1:0 --webhook-addr 127.0.0.1:0 "${controller_flags[@]}" >"$work/controller.log" 2>&1 &
pids+=($!)
wait_for 30 grep -q "serving /metrics on port" "$work/controller.log" || fail "the controller did not start"
metrics_port=$(sed -n 's|.*serving /metrics on port \([0-9]*\),.*|\1|p' "$work/controller.log" | head -n 1)
health_port=$(sed -n 's|.*/healthz and /readyz on port \([0-9]*\).*|\1|p' "$work/controller.log" | head -n 1)
wait_for 30 curl -sf "http://127.0.0.1:$health_port/readyz" || fail "the controller is not ready"
echo "controller: ready; /metrics on 127.0.0.1:$metrics_port"

# Prometheus cannot report a port it chose itself: try free-looking ports until one binds.
cat >"$work/prometheus.yml" <<EOF
global: {scrape_interval: 2s, evaluation_interval: 2s}
scrape_configs:
  - job_name: sluice-data-plane
    static_configs: [{targets: ["$data_plane"]}]
EOF
prometheus_up=false
for _ in 1 2 3 4 5; do
  prometheus_port=$((20000 + RANDOM % 30000))
  setsid prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
    --web.listen-address="127.0.0.1:$prometheus_port" >"$work/prometheus.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  # Ready, or gone (the port was taken after all: the next one).
  deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
    if curl -sf "http://127.0.0.1:$prometheus_port/-/ready" >/dev/null; then prometheus_up=true; break; fi
    sleep 0.2
  done
  $prometheus_up && break
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'pids[-1]'
done
$prometheus_up || fail "Prometheus did not start"
prometheus="http://127.0.0.1:$prometheus_port"
echo "prometheus: $prometheus, scraping the data plane every 2s"

# The demo's Rollout is frontend in default; the GitOps example's is in production.
rollout_namespace=default
if $gitops; then rollout_namespace=production; fi
rollout_json() { kubectl get rollout frontend -n "$rollout_namespace" -o json; }

# Prints a line whenever the Rollout's phase, step, weight, revisions or analysis change, until the
# jq condition $1 holds (or $2 seconds pass: an error).
watch_rollout() {
  local until=$1 seconds=$2 last="" line
  local deadline=$((SECONDS + seconds))
  while ((SECONDS < deadline)); do
    local json
    json=$(rollout_json 2>/dev/null) || { sleep 0.3; continue; }
    line=$(jq -r '
      (.spec.strategy.canary.steps // []) as $steps
      | (.status.currentStepIndex // 0) as $i
      | (if .status.abort == true then 0
         elif $i >= ($steps | length) then 100
         else ([$steps[0:($i + 1)][] | .setWeight // empty] | last // 0) end) as $weight
      | "phase \(.status.phase // "-")  step \($i)/\($steps | length)  weight \($weight)  "
        + "stable \(.status.stableRS // "-")  canary \(.status.currentPodHash // "-")"
        + "  analysis \(.status.canary.currentStepAnalysisRunStatus.status // "-")"' <<<"$json")
    if [[ "$line" != "$last" ]]; then
      printf '  %5.1fs  %s\n' "$((SECONDS - started))" "$line"
      last=$line
    fi
    if jq -e "$until" <<<"$json" >/dev/null; then return 0; fi
    sleep 0.3
  done
  echo "demo: the Rollout did not reach ($until) in ${seconds}s:" >&2
  kubectl get rollout frontend -n "$rollout_namespace" -o yaml >&2 || true
  return 1
}

settled='.status.phase == "Healthy" and .status.stableRS != null and .status.stableRS == .status.currentPodHash'

if $gitops; then
  # ---- GitOps: git is the only way in, past the bootstrap ----
  ns=sluice-system
  fleet="$work/fleet"
  fleet_git() { git -C "$fleet" -c user.name="Sluice demo" -c user.email=demo@example.invalid "$@"; }

  # Every Kustomization of the cluster Ready, at the revision $1 when given.
  kustomizations_ready() {
    kubectl get kustomizations -n "$ns" -o json | jq -e --arg rev "${1:-}" '
      (.items | length) == 3 and all(.items[];
        any(.status.conditions[]?; .type == "Ready" and .status == "True")
        and ($rev == "" or .status.lastAppliedRevision == $rev))'
  }

  echo
  echo "== the fleet repository: examples/gitops committed to a local git repository ($fleet)"
  rm -rf "$fleet"
  cp -R examples/gitops "$fleet"
  # What a bootstrap writes for this cluster: where its repository is, and where its Prometheus is.
  sed -i "s|^  url: .*|  url: file://$fleet|" "$fleet/clusters/production/sync.yaml"
  sed -i "s|^  PROMETHEUS_URL: .*|  PROMETHEUS_URL: $prometheus|" "$fleet/clusters/production/cluster-settings.yaml"
  grep -q "file://$fleet" "$fleet/clusters/production/sync.yaml" || fail "the repository URL was not set"
  fleet_git init -q -b main
  fleet_git add -A
  fleet_git commit -q -m "The fleet: infrastructure, frontend 1.0"
  echo "commit $(fleet_git rev-parse --short HEAD): $(fleet_git log -1 --format=%s)"

  echo
  echo "== bootstrap: kubectl apply -k clusters/production (once; the controller applies the rest from git)"
  kubectl apply -k "$fleet/clusters/production"
  echo "waiting for the Kustomizations (infrastructure first, frontend dependsOn it and waits for its Rollout)"
  wait_for 180 kustomizations_ready || {
    "$sluice" get kustomizations -n "$ns" >&2 || true
    fail "the Kustomizations did not become Ready"
  }
  "$sluice" get sources git -n "$ns"
  "$sluice" get kustomizations -n "$ns"
  watch_rollout "$settled" 30 || fail "frontend 1.0 is not Healthy"
  v1=$(rollout_json | jq -r .status.stableRS)

  echo
  echo "== frontend 2.0: a commit changes newTag in apps/frontend/overlays/production; the controller canaries it"
  sed -i 's|^    newTag: .*|    newTag: "2.0"|' "$fleet/apps/frontend/overlays/production/kustomization.yaml"
  fleet_git commit -q -am "frontend 2.0 to production"
  commit=$(fleet_git rev-parse HEAD)
  echo "commit ${commit:0:7}: $(fleet_git log -1 --format=%s)"
  # What a Receiver does on a push: fetch now rather than at the next interval.
  "$sluice" reconcile source git fleet -n "$ns"
  watch_rollout "$settled and .status.stableRS != \"$v1\"" 180 || fail "frontend 2.0 was not promoted"
  final=$(rollout_json)
  echo "v2 result: phase=$(jq -r .status.phase <<<"$final") stable=$(jq -r .status.stableRS <<<"$final")" \
    "image=$(jq -r '.spec.template.spec.containers[0].image' <<<"$final")"
  wait_for 60 kustomizations_ready "main@sha1:$commit" || {
    "$sluice" get kustomizations -n "$ns" >&2 || true
    fail "the Kustomizations are not Ready at main@sha1:$commit"
  }
  "$sluice" get kustomizations -n "$ns"
  echo "gitops result: every Kustomization Ready at main@sha1:$commit"
  v2=$(rollout_json | jq -r .status.stableRS)

  echo
  echo "== frontend 3.0: its pod template says cluster.sluice.dev/error-rate: \"0.5\"; the analysis fails, the Rollout aborts"
  sed -i 's|^    newTag: .*|    newTag: "3.0"|' "$fleet/apps/frontend/overlays/production/kustomization.yaml"
  cat >>"$fleet/apps/frontend/overlays/production/kustomization.yaml" <<'PATCH'
  - target:
      kind: Rollout
      name: frontend
    patch: |
      - op: add
        path: /spec/template/metadata/annotations
        value: {cluster.sluice.dev/error-rate: "0.5"}
PATCH
  fleet_git commit -q -am "frontend 3.0 to production"
  echo "commit $(fleet_git rev-parse --short HEAD): $(fleet_git log -1 --format=%s)"
  "$sluice" reconcile source git fleet -n "$ns"
  watch_rollout '.status.phase == "Degraded"' 180 || fail "frontend 3.0 was not aborted"
  final=$(rollout_json)
  echo "v3 result: phase=$(jq -r .status.phase <<<"$final") stable=$(jq -r .status.stableRS <<<"$final")" \
    "(v2: $v2) image=$(jq -r '.spec.template.spec.containers[0].image' <<<"$final")"
  frontend_failed() {
    kubectl get kustomization frontend -n "$ns" -o json |
      jq -e '.status.conditions[]? | select(.type == "Ready") | .status == "False" and .reason == "HealthCheckFailed"'
  }
  wait_for 60 frontend_failed || fail "the Kustomization frontend does not report the failed canary"
  "$sluice" get kustomizations -n "$ns"

  echo
  echo "== an abort is not fought: the Kustomization applies the same spec again, and the Rollout stays aborted"
  generation=$(jq -r .metadata.generation <<<"$final")
  # Exits 1: the Kustomization is handled and still not Ready, since the Rollout it applied is Degraded.
  "$sluice" reconcile kustomization frontend -n "$ns" --timeout 60s || true
  final=$(rollout_json)
  echo "after another apply: phase=$(jq -r .status.phase <<<"$final") generation=$(jq -r .metadata.generation <<<"$final")" \
    "(before: $generation) stable=$(jq -r .status.stableRS <<<"$final")"

  echo
  echo "== what git put in the cluster: sluice tree kustomization infrastructure, and frontend"
  "$sluice" tree kustomization infrastructure -n "$ns"
  "$sluice" tree kustomization frontend -n "$ns"

  echo
  echo "live demo took $((SECONDS - started)) s"
  exit 0
fi

echo
echo "== v1: the first revision comes up (no steps on a first deploy)"
kubectl apply -f examples/demo/rollout.yaml >/dev/null
kubectl annotate rollout frontend --overwrite "demo.sluice.dev/prometheus=$prometheus" >/dev/null
watch_rollout "$settled" 60 || fail "v1 did not become Healthy"
v1=$(rollout_json | jq -r .status.stableRS)

echo
echo "== v2: a new image; the canary answers without errors, the analysis passes, v2 is promoted"
kubectl patch rollout frontend --type merge -p \
  '{"spec":{"template":{"spec":{"containers":[{"name":"frontend","image":"registry.example/frontend:2.0"}]}}}}' \
  >/dev/null
watch_rollout "$settled and .status.stableRS != \"$v1\"" 120 || fail "v2 was not promoted"
v2=$(rollout_json | jq -r .status.stableRS)
echo "v2 result: phase=$(rollout_json | jq -r .status.phase) stable=$v2"

echo
echo "== v3: its pod template says cluster.sluice.dev/error-rate: \"0.5\"; the analysis fails, the Rollout aborts"
kubectl patch rollout frontend --type merge -p \
  '{"spec":{"template":{"metadata":{"annotations":{"cluster.sluice.dev/error-rate":"0.5"}},"spec":{"containers":[{"name":"frontend","image":"registry.example/frontend:3.0"}]}}}}' \
  >/dev/null
watch_rollout '.status.phase == "Degraded"' 120 || fail "v3 was not aborted"
final=$(rollout_json)
echo "v3 result: phase=$(jq -r .status.phase <<<"$final") stable=$(jq -r .status.stableRS <<<"$final")" \
  "(v2: $v2) canary=$(jq -r .status.currentPodHash <<<"$final")"
echo "message: $(jq -r .status.message <<<"$final")"
[[ "$(jq -r .status.stableRS <<<"$final")" == "$v2" ]] || fail "after the abort, stable is not v2"
echo "what Prometheus says of the canary's success rate now (ingress-nginx's requests the canary took):"
curl -sf "$prometheus/api/v1/query" --data-urlencode \
  "query=sum(rate(nginx_ingress_controller_requests{ingress=\"frontend\",canary!=\"\",status!~\"5..\"}[20s])) / sum(rate(nginx_ingress_controller_requests{ingress=\"frontend\",canary!=\"\"}[20s]))" |
  jq -r '.data.result[] | "  \(.value[1])"'

echo
echo "== the controller's /metrics (rollout_* and analysis_run_*)"
curl -sf "http://127.0.0.1:$metrics_port/metrics" | grep -E '^(rollout_|analysis_run_)' | grep -v '_bucket{'

echo
echo "live demo took $((SECONDS - started)) s"
