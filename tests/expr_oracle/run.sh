#!/bin/sh
# Builds the expr oracle offline, against Debian's packaged expr (golang-github-antonmedv-expr-dev), into the
# build directory given, and puts the condition corpus to it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "${1:?usage: run.sh BUILD_DIR}"
out=$(cd "$1" && pwd)
GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$out/go-cache" GOFLAGS= \
  "${GO:-go}" build -o "$out/expr_oracle" "$here/main.go"
exec "$out/expr_oracle" "$here/../data/conditions/corpus.tsv"
