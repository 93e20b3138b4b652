#!/usr/bin/env bash
# Runs the Windows tests of @forkexec/helper-exe for real under Wine: the core conformance suite
# and test/win32/*.wine.mjs on Windows node, with the Windows helper (dist/fxhelper.exe) built by
# mingw-w64. Reuses ntdll-backend's Wine setup (scripts/wine-env.sh); needs the repo built.
# FORKEXEC_WINEPREFIX=DIR runs in another Wine prefix (several people on one checkout).
# Exit status: non-zero when anything failed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$here/../ntdll-backend/scripts/wine-env.sh"
ntdll_dir=$pkg_dir
pkg_dir=$here # build_programs builds this package's test/win32/programs too
[ -n "${FORKEXEC_WINEPREFIX:-}" ] && export WINEPREFIX="$FORKEXEC_WINEPREFIX"

prepare_wine
trap stop_wine EXIT
# The package build skips the Windows helper when mingw-w64 was not installed yet: build it now.
(cd "$pkg_dir" && node --input-type=module -e "import { buildWin32Helper } from './scripts/build-win32-helper.mjs'; if (!buildWin32Helper('dist')) process.exit(1);")

output="$cache/test-wine-helper-exe.log"
export FORKEXEC_PROBE FORKEXEC_WINE_KOFFI FORKEXEC_WIN_TOOL FORKEXEC_WIN_FAKE_HELPER NODE_OPTIONS
FORKEXEC_PROBE=$(winpath "$bin_dir/fxprobe.exe")
FORKEXEC_WIN_TOOL=$(winpath "$bin_dir/fxw-tool.exe")
FORKEXEC_WIN_FAKE_HELPER=$(winpath "$bin_dir/fxw-fake-helper.exe")
FORKEXEC_WINE_KOFFI=$(winpath "$koffi_dir/node_modules/koffi/index.cjs")
NODE_OPTIONS="--import=file:///$(winpath "$ntdll_dir/scripts/wine-koffi-hook.mjs" | tr '\\' /)"

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
