#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice needs, only those that are missing, then configures and builds.
# Usage: scripts/bootstrap.sh [BUILD_DIR] [extra cmake args...]   (default BUILD_DIR: build)
# Set SLUICE_NO_BUILD=1 to install only.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build ccache pkg-config git ca-certificates
  libyaml-cpp-dev nlohmann-json3-dev catch2 libcli11-dev
  libmuparser-dev libcurl4-openssl-dev libboost-dev prometheus-cpp-dev libbenchmark-dev
  libsqlite3-dev libssl-dev libre2-dev libspdlog-dev prometheus curl jq procps zsh
  protobuf-compiler libprotobuf-dev libsnappy-dev libgit2-dev libarchive-dev age openssh-server
  clang-format clang-tidy clang libclang-rt-14-dev
  golang-go golang-github-antonmedv-expr-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The independent SOPS decoder that checks the test fixtures (tests/data/sops), from the lock file; only
# where Node.js and npm are installed (the test that runs it is registered only where node is).
if command -v npm >/dev/null &&
  [[ tests/data/sops/package-lock.json -nt tests/data/sops/node_modules/.package-lock.json ]]; then
  echo "bootstrap: npm ci in tests/data/sops"
  (cd tests/data/sops && npm ci --no-audit --no-fund --loglevel=error) ||
    echo "bootstrap: npm ci failed in tests/data/sops; the fixtures' independent check is left out"
fi

if [[ "${SLUICE_NO_BUILD:-}" == 1 ]]; then exit 0; fi

# CMake puts ccache in front of the compiler when it is installed (it is in the list above). Its cache
# directory is made here, so that a first build on a fresh machine or runner starts from an empty cache
# instead of failing; a cache shared by several checkouts hits across them (paths under the checkout are
# hashed relative to it).
export CCACHE_DIR="${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ccache}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
mkdir -p "$CCACHE_DIR"

build_dir="${1:-build}"
shift || true
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
ninja -C "$build_dir" -j"$(nproc)"
