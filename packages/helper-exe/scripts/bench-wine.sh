#!/usr/bin/env bash
# Per-spawn latency of the Windows helper against the ntdll backend and child_process.spawn under
# Wine (see bench-wine.mjs). Needs the repo built; Wine is set up by wine-setup.sh, as for test-wine.sh.
# BENCH_ROUNDS=N changes the sample size, BENCH_BALLAST_MIB=N makes the parent that much bigger first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/wine-setup.sh"

output="$cache/bench-wine-helper-exe.log"
export FORKEXEC_NOOP BENCH_ROUNDS="${BENCH_ROUNDS:-30}" BENCH_BALLAST_MIB="${BENCH_BALLAST_MIB:-0}"
FORKEXEC_NOOP=$(winpath "$bin_dir/noop.exe")
cd "$pkg_dir"
status=0
wine "$node_exe" "$koffi_hook" scripts/bench-wine.mjs </dev/null >"$output" 2>&1 || status=$?
tr -d '\r' <"$output"
exit "$status"
