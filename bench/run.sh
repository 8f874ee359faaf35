#!/usr/bin/env bash
# Builds the benchmarks in Release (build-bench/) and prints each one's median CPU time over ten runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build-bench -j2 bench_sim >/dev/null
build-bench/bench/bench_sim --benchmark_repetitions=10 --benchmark_report_aggregates_only=true \
  --benchmark_min_time=0.2 | tee build-bench/bench_sim.txt
echo
echo "bench_sim median (CPU): $(awk '/_median/ {print $4, $5}' build-bench/bench_sim.txt)  (budget: under 1 ms)"
