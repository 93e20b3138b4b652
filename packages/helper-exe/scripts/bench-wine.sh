#!/usr/bin/env bash
# Per-spawn latency of the Windows helper against the ntdll backend and child_process.spawn under
# Wine (see bench-wine.mjs). Needs the repo built; sets Wine up like test-wine.sh.
# BENCH_ROUNDS=N changes the sample size, BENCH_BALLAST_MIB=N makes the parent that much bigger first.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$here/../ntdll-backend/scripts/wine-env.sh"
ntdll_dir=$pkg_dir
[ -n "${FORKEXEC_WINEPREFIX:-}" ] && export WINEPREFIX="$FORKEXEC_WINEPREFIX"

prepare_wine
trap stop_wine EXIT
(cd "$here" && node --input-type=module -e "import { buildWin32Helper } from './scripts/build-win32-helper.mjs'; if (!buildWin32Helper('dist')) process.exit(1);")
output="$cache/bench-wine-helper-exe.log"
export FORKEXEC_NOOP FORKEXEC_WINE_KOFFI BENCH_ROUNDS="${BENCH_ROUNDS:-30}" BENCH_BALLAST_MIB="${BENCH_BALLAST_MIB:-0}"
FORKEXEC_NOOP=$(winpath "$bin_dir/noop.exe")
FORKEXEC_WINE_KOFFI=$(winpath "$koffi_dir/node_modules/koffi/index.cjs")
cd "$here"
status=0
wine "$node_exe" --import="file:///$(winpath "$ntdll_dir/scripts/wine-koffi-hook.mjs" | tr '\\' /)" scripts/bench-wine.mjs </dev/null >"$output" 2>&1 || status=$?
tr -d '\r' <"$output"
exit "$status"
