#!/usr/bin/env bash
# ONNX backend conformance (Debian's libonnx-testdata) with the skip list in
# tests/conformance/skip.txt. Ends with the runner's "N passed, N failed" line.
set -u
BUILD=${BUILD:-build}
if [[ ! -d /usr/share/libonnx-testdata/data/node ]]; then
    echo "skip: libonnx-testdata is not installed (scripts/setup.sh installs it)"
    echo "0 passed, 0 failed"
    exit 0
fi
"$BUILD/tests/conformance" --skip-file tests/conformance/skip.txt "$@"
