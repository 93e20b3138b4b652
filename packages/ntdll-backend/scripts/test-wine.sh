#!/usr/bin/env bash
# Runs the Windows tests of @forkexec/ntdll-backend for real under Wine: the core conformance suite
# and test/win32/*.wine.mjs on Windows node, against mingw-built programs. Needs the repo built
# (npm run build); installs Wine and mingw-w64 when missing (as root, or through sudo).
# FORKEXEC_WINEPREFIX=DIR runs in another Wine prefix (several people on one checkout).
# Exit status: non-zero when anything failed.
set -euo pipefail
pkg_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$pkg_dir/../../scripts/wine/wine-env.sh"

prepare_wine "$pkg_dir"
trap stop_wine EXIT

output="$cache/test-wine.log"
export FORKEXEC_PROBE NODE_OPTIONS
FORKEXEC_PROBE=$(winpath "$bin_dir/fxprobe.exe")
NODE_OPTIONS=$koffi_hook

cd "$pkg_dir"
log "running test/win32/*.wine.mjs on Windows node $NODE_WIN_VERSION"
status=0
started=$SECONDS
# Windows node cannot use a Unix pipe as its stdio: stdin from /dev/null, output to a file.
timeout 1800 wine "$node_exe" --test --test-reporter=spec --test-timeout=600000 "test/win32/*.wine.mjs" </dev/null >"$output" 2>&1 || status=$?
tr -d '\r' <"$output"
[ "$status" -eq 0 ] && log "Windows tests passed in $((SECONDS - started)) s" || log "Windows tests FAILED (exit status $status) after $((SECONDS - started)) s"
exit "$status"
