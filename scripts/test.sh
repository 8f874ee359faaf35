#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test. The last line is ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh build
ctest --test-dir build --output-on-failure -j2
