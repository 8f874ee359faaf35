#!/usr/bin/env bash
# Builds the benchmarks in Release (build-bench/) and prints the median of ten runs of each, then the
# figures the budgets in docs/design.md §9 are about.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build-bench -j2 bench_sim bench_condition bench_provider bench_store bench_backtest bench_gc bench_apiserver bench_controller bench_plugin_get \
  bench_traffic bench_local_prometheus bench_gitops >/dev/null
for b in bench_sim bench_condition bench_provider bench_store bench_gc; do
  # Interleaving the repetitions spreads a loaded machine's noise over both sides of a comparison.
  build-bench/bench/$b --benchmark_repetitions=10 --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true --benchmark_min_time=0.2 | tee "build-bench/$b.txt"
done
# Each repetition is a whole 30-day backtest; the history is imported once, before the first.
build-bench/bench/bench_backtest --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  | tee build-bench/bench_backtest.txt
# The API server over HTTPS: rates from 1, 4 and 8 clients against one server; then the watch latency and
# the resident memory, each a whole scenario per repetition.
build-bench/bench/bench_apiserver --benchmark_filter='RawSqlite|Https' --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_min_time=0.5 | tee build-bench/bench_apiserver.txt
build-bench/bench/bench_apiserver --benchmark_filter='WatchDelivery' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true | tee build-bench/bench_apiserver_watch.txt
build-bench/bench/bench_apiserver --benchmark_filter='ResidentMemory' | tee build-bench/bench_apiserver_rss.txt
# The controller: one Rollout's reconciles and five aborts per repetition; then the controller process with
# 1,000 Rollouts (settled, idle a minute, all updated at once) and with 10,000 (settled, idle a minute),
# each a whole scenario run once.
build-bench/bench/bench_controller --benchmark_filter='RolloutReconcile|Abort|StepStart' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true | tee build-bench/bench_controller.txt
build-bench/bench/bench_controller --benchmark_filter='ControllerProcess' | tee build-bench/bench_controller_process.txt
# One router update's CPU, per router.
build-bench/bench/bench_traffic --benchmark_repetitions=10 --benchmark_report_aggregates_only=true \
  --benchmark_min_time=0.2 | tee build-bench/bench_traffic.txt
# The plugin: 20 cold processes of each view, one scenario each.
build-bench/bench/bench_plugin_get | tee build-bench/bench_plugin_get.txt
# The simulator's own Prometheus: three starts, then pushes against one server.
build-bench/bench/bench_local_prometheus --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  | tee build-bench/bench_local_prometheus.txt
# GitOps: 1,000 Kustomizations from cold (one shared path, then a directory each) and their no-drift
# interval; one Kustomization of 1,000 objects. Each a whole scenario run once.
build-bench/bench/bench_gitops | tee build-bench/bench_gitops.txt
echo
awk '/_median/ {sub(/_median$/, "", $1); print "bench_sim " $1 " median CPU per simulation: " $4 " " $5 " (budget: under 1 ms)"}' build-bench/bench_sim.txt
awk '/_median/ && /items_per_second/ {
  for (i = 1; i <= NF; i++) if ($i ~ /^items_per_second=/) { sub(/^items_per_second=/, "", $i); rate = $i }
  sub(/_median$/, "", $1); print "bench_condition " $1 " median: " rate " evaluations/s (budget: over 10M/s)" }' \
  build-bench/bench_condition.txt
awk '/_median/ && ($1 ~ /^rawHttpGet/ || $1 ~ /^providerMeasure/ || $1 ~ /^parseAndMap/) { name = $1; sub(/(\/real_time)?_median$/, "", name); t[name] = $2 }
  END { printf "bench_provider median: raw HTTP GET %.1f us, provider measure() %.1f us, added %.1f us; parsing and mapping alone %.1f us (budget: under 1000 us added)\n",
        t["rawHttpGet"], t["providerMeasure"], t["providerMeasure"] - t["rawHttpGet"], t["parseAndMap"] }' build-bench/bench_provider.txt
awk '/_median/ && /items_per_second/ {
  for (i = 1; i <= NF; i++) if ($i ~ /^items_per_second=/) { sub(/^items_per_second=/, "", $i); rate = $i }
  sub(/_median$/, "", $1); sub(/\/real_time$/, "", $1); print "bench_store " $1 " median: " rate " writes/s wall (budget: over 2,000/s, within 2x of raw SQLite)" }' \
  build-bench/bench_store.txt
awk '/_median/ {print "bench_backtest 30 days every minute, median wall: " $2 " " $3 " (budget: under 5000 ms)"}' \
  build-bench/bench_backtest.txt
awk '/_median/ && /BM_BackgroundCascade/ {
  for (i = 1; i <= NF; i++) if ($i ~ /^items_per_second=/) { sub(/^items_per_second=/, "", $i); rate = $i }
  print "bench_gc background cascade of 1000 dependents, median: " rate " dependents/s (budget: over 500/s)" }
  /_median/ && /BM_CreateWithControllers\/0/ { without = $4 } /_median/ && /BM_CreateWithControllers\/1/ { with = $4 }
  END { printf "bench_gc create CPU median: %.1f us alone, %.1f us with both controllers watching (budget: under 20%% added)\n", without, with }' \
  build-bench/bench_gc.txt
awk '/_median/ && /items_per_second/ {
  for (i = 1; i <= NF; i++) if ($i ~ /^items_per_second=/) { sub(/^items_per_second=/, "", $i); rate = $i }
  sub(/_median$/, "", $1); sub(/\/real_time/, "", $1); print "bench_apiserver " $1 " median: " rate " requests/s (budget for creates: over 2,000/s)" }' \
  build-bench/bench_apiserver.txt
awk '/_median/ { line = "bench_apiserver watch delivery, 100 watchers, median of runs:"
  for (i = 1; i <= NF; i++) if ($i ~ /^(p50_us|p99_us|max_us)=/) line = line " " $i
  print line " (budget: p99 under 10000 us)" }' build-bench/bench_apiserver_watch.txt
awk '/ResidentMemory/ && !/^-/ { line = "bench_apiserver sluice cluster VmRSS:"
  for (i = 1; i <= NF; i++) if ($i ~ /_KiB=/) line = line " " $i
  print line }' build-bench/bench_apiserver_rss.txt
awk '/_median/ && /RolloutReconcile/ { line = "bench_controller one Rollout, every reconcile of five updates, median of runs:"
  for (i = 1; i <= NF; i++) if ($i ~ /^(p50_us|p99_us|max_us)=/) line = line " " $i
  print line }
  /_median/ && /AbortAfterFailedAnalysis/ { line = "bench_controller AnalysisRun Failed to stable-only writes, median of runs:"
  for (i = 1; i <= NF; i++) if ($i ~ /^(controller_median_ms|first_write_median_ms|service_median_ms|canary_zero_median_ms)=/) line = line " " $i
  print line " (budget: controller under 100 ms; canary_zero includes the pods becoming ready)" }' \
  build-bench/bench_controller.txt
awk '/ControllerProcess/ && !/^-/ { split($1, name, "/"); sub(/rollouts:/, "", name[2])
  line = "bench_controller controller process, " name[2] " Rollouts:"
  for (i = 1; i <= NF; i++) if ($i ~ /^(settled|settle_s|settled_VmRSS_KiB|idle60s_VmRSS_KiB|idle60s_VmHWM_KiB|idle60s_cpu_s|rolled_per_s|rolled_cpu_s)=/) line = line " " $i
  print line " (budget: under 256 MiB VmRSS at 10000)" }' build-bench/bench_controller_process.txt
awk '/BM_GetRolloutCold/ && !/^-/ { line = "bench_plugin_get kubectl-sluice get rollout, cold process, 20 runs:"
  for (i = 1; i <= NF; i++) if ($i ~ /^(median_ms|min_ms|p90_ms|cpu_median_ms)=/) line = line " " $i
  print line " (budget: median under 50 ms)" }
  /BM_ListRollouts1000/ && !/^-/ { line = "bench_plugin_get kubectl-sluice get rollouts -A, 1000 Rollouts, 20 runs:"
  for (i = 1; i <= NF; i++) if ($i ~ /^(median_ms|min_ms|p90_ms|cpu_median_ms)=/) line = line " " $i
  print line }' build-bench/bench_plugin_get.txt
awk '/_median/ && /BM_StepStartToWeightInForce/ { line = "bench_controller step start to weight in force (nginx), median of runs:"
  for (i = 1; i <= NF; i++) if ($i ~ /^(median_ms|p90_ms|max_ms)=/) line = line " " $i
  print line }' build-bench/bench_controller.txt
awk '/_median/ && /BM_RouterSetWeight/ { name = $1; sub(/^BM_RouterSetWeight\//, "", name); sub(/_median$/, "", name)
  print "bench_traffic one router update (" name "), median CPU: " $4 " " $5 " and one write" }' build-bench/bench_traffic.txt
awk '/_median/ && /BM_StartUntilReady/ { print "bench_local_prometheus start() until /-/ready, median: " $2 " " $3 "; " $NF }
  /_median/ && /BM_Push10SeriesOf120Samples/ { print "bench_local_prometheus push of 10 series x 120 samples, median wall: " $2 " " $3 }' \
  build-bench/bench_local_prometheus.txt
