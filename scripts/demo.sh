#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and simulates the example canary plan: a table on the
# terminal and an SVG chart in out/canary-nginx.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh build
mkdir -p out
build/sluice sim examples/canary-nginx/rollout.yaml --scenario examples/canary-nginx/scenario.yaml \
  --svg out/canary-nginx.svg
echo "chart: out/canary-nginx.svg (open it in a browser)"
