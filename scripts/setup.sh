#!/usr/bin/env bash
# Installs every Debian package that mecbench's build, tests and benchmarks
# need. Run as root (or with sudo) on Debian 12. Idempotent.
set -euo pipefail
PKGS=(
  build-essential pkg-config clang libclang-rt-14-dev
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev libonnx-testdata
  libdnnl-dev libomp-dev
  libsqlite3-dev sqlite3 libyaml-dev libjpeg-dev libpng-dev
  libmicrohttpd-dev libcurl4-openssl-dev
  dataset-fashion-mnist fortunes fortunes-min mate-backgrounds
  python3-numpy python3-scipy python3-onnx python3-torch
  chromium nodejs npm
)
SUDO=
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi
