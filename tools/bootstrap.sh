#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Installs the Debian 12 packages speurneus needs (when missing), then
# configures and builds it into build/.  Safe to run again.
#   tools/bootstrap.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake pkg-config libpcre2-dev libmagic-dev libmagic-mgc
          zlib1g-dev libyaml-dev libsodium-dev libcmocka-dev libarchive-dev python3
          libxml2-dev libgmime-3.0-dev libpoppler-glib-dev libsqlite3-dev
          zstd lz4 ncompress zip binutils cpio 7zip xorriso xz-utils)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--no-build" ] && exit 0
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target speurneus >/dev/null
echo "bootstrap: built build/speurneus" >&2
