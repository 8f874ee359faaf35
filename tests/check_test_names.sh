#!/usr/bin/env bash
# ctest reads a test's name as a list, so a Catch test whose name holds a ';' becomes two ctest tests that
# each match nothing and pass. Fails naming every such test of the binaries given.
status=0
for binary in "$@"; do
  while IFS= read -r name; do
    if [[ $name == *";"* ]]; then
      echo "$(basename "$binary"): $name"
      status=1
    fi
  done < <("$binary" --list-test-names-only)
done
exit $status
