#!/usr/bin/env bash
# Packages a built sluice as a krew plugin: OUT/sluice-linux-ARCH.tar.gz and OUT/plugin.yaml (the repo's
# plugin.yaml with version, platform, archive address and sha256 filled in). Then:
#   kubectl krew install --manifest=OUT/plugin.yaml --archive=OUT/sluice-linux-ARCH.tar.gz
# Usage: scripts/krew-package.sh SLUICE_BINARY OUT [URI]   (URI: where the archive will be published;
# default: the archive's file:// address)
set -euo pipefail
binary=${1:?usage: krew-package.sh SLUICE_BINARY OUT [URI]}
out=${2:?usage: krew-package.sh SLUICE_BINARY OUT [URI]}
repo=$(cd "$(dirname "$0")/.." && pwd)
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "krew-package.sh: unsupported machine $(uname -m)" >&2; exit 2 ;;
esac
version=$("$binary" version --client | awk '{print $2}')
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || { echo "krew-package.sh: $binary printed no version" >&2; exit 2; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
archive="$out/sluice-linux-$arch.tar.gz"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# Stripped: the line tables of a development build triple the download.
install -m 0755 -s "$binary" "$stage/sluice"
# Reproducible: fixed owner, order and times, so the same binary gives the same sha256.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$stage" -cf - sluice | gzip -n >"$archive"
sha=$(sha256sum "$archive" | awk '{print $1}')
uri=${3:-file://$archive}

sed -e "s|^  version: v0.0.0|  version: v$version|" \
    -e "s|arch: amd64|arch: $arch|" \
    -e "s|ARCHIVE_URI|$uri|" \
    -e "s|ARCHIVE_SHA256|$sha|" \
    "$repo/plugin.yaml" >"$out/plugin.yaml"
echo "$out/plugin.yaml"
echo "$archive"
