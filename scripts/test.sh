#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test. The last line is ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh build
# The tests wait on servers and timers more than they compute: one more at a time than there are cores.
ctest --test-dir build --output-on-failure -j"$(($(nproc) + 1))"
