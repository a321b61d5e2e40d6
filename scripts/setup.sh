#!/usr/bin/env bash
# Installs everything mecbench's build, tests and benchmarks need on Debian 12:
# Debian packages (as root, or through sudo) and the ONNX Runtime peer from npm
# (bench/node_modules). Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(
  build-essential pkg-config clang libclang-rt-14-dev
  protobuf-c-compiler libprotobuf-c-dev libonnx-dev libonnx-testdata
  libdnnl-dev libomp-dev
  libsqlite3-dev sqlite3 libyaml-dev libjpeg-dev libpng-dev zlib1g-dev
  libmicrohttpd-dev libcurl4-openssl-dev
  dataset-fashion-mnist fortunes fortunes-min mate-backgrounds
  python3-numpy python3-scipy python3-onnx python3-torch
  chromium
)
SUDO=
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm: any installed ones will do (e.g. NodeSource's nodejs bundles npm
# and must not be replaced by Debian's); otherwise Debian's.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# The ONNX Runtime peer (benchmarks, interop). ONNXRUNTIME_NODE_INSTALL=skip:
# the package's install script would fetch GPU binaries from a host outside
# the npm registry; its tarball already carries the Linux x64 CPU binding.
if [[ ! -d bench/node_modules/onnxruntime-node ]]; then
  echo "setup: installing onnxruntime-node into bench/node_modules"
  as_user=()
  if [[ $(id -u) -eq 0 && -n ${SUDO_USER:-} ]]; then as_user=(sudo -u "$SUDO_USER"); fi
  if ! (cd bench && "${as_user[@]}" env ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --loglevel=error); then
    echo "setup: warning: onnxruntime-node could not be installed; 'make bench' will run mecbench alone and the ONNX Runtime interop suite will skip" >&2
  fi
else
  echo "setup: onnxruntime-node present"
fi
