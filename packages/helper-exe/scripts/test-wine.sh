#!/usr/bin/env bash
# Runs the Windows tests of @forkexec/helper-exe for real under Wine: the core conformance suite
# and test/win32/*.wine.mjs on Windows node, with the Windows helper (dist/fxhelper.exe) built by
# mingw-w64. Wine is set up by wine-setup.sh; needs the repo built.
# FORKEXEC_WINEPREFIX=DIR runs in another Wine prefix (several people on one checkout).
# Exit status: non-zero when anything failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/wine-setup.sh"

output="$cache/test-wine-helper-exe.log"
export FORKEXEC_PROBE FORKEXEC_WIN_TOOL FORKEXEC_WIN_FAKE_HELPER NODE_OPTIONS
FORKEXEC_PROBE=$(winpath "$bin_dir/fxprobe.exe")
FORKEXEC_WIN_TOOL=$(winpath "$bin_dir/fxw-tool.exe")
FORKEXEC_WIN_FAKE_HELPER=$(winpath "$bin_dir/fxw-fake-helper.exe")
NODE_OPTIONS=$koffi_hook

cd "$pkg_dir"
pattern=${1:-test/win32/*.wine.mjs}
log "running $pattern on Windows node $NODE_WIN_VERSION"
status=0
started=$SECONDS
# One file at a time: tests count the helpers running. Windows node cannot use a Unix pipe as its
# stdio: stdin from /dev/null, output to a file.
timeout 900 wine "$node_exe" --test --test-concurrency=1 --test-reporter=spec --test-timeout=300000 "$pattern" </dev/null >"$output" 2>&1 || status=$?
tr -d '\r' <"$output"
[ "$status" -eq 0 ] && log "Windows tests passed in $((SECONDS - started)) s" || log "Windows tests FAILED (exit status $status) after $((SECONDS - started)) s"
exit "$status"
