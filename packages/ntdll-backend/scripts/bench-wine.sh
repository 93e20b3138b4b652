#!/usr/bin/env bash
# Per-spawn latency of the ntdll backend against child_process.spawn under Wine (see bench-wine.mjs).
# Needs the repo built; sets Wine up like test-wine.sh. BENCH_ROUNDS=N changes the sample size,
# BENCH_BALLAST_MIB=N makes the parent that much bigger first.
set -euo pipefail
pkg_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$pkg_dir/../../scripts/wine/wine-env.sh"

prepare_wine "$pkg_dir"
trap stop_wine EXIT
output="$cache/bench-wine.log"
export FORKEXEC_PROBE FORKEXEC_NOOP FORKEXEC_SPAWN_LOOP BENCH_ROUNDS="${BENCH_ROUNDS:-30}" BENCH_BALLAST_MIB="${BENCH_BALLAST_MIB:-0}"
FORKEXEC_PROBE=$(winpath "$bin_dir/fxprobe.exe")
FORKEXEC_NOOP=$(winpath "$bin_dir/noop.exe")
FORKEXEC_SPAWN_LOOP=$(winpath "$bin_dir/spawn-loop.exe")
cd "$pkg_dir"
status=0
wine "$node_exe" "$koffi_hook" scripts/bench-wine.mjs </dev/null >"$output" 2>&1 || status=$?
tr -d '\r' <"$output"
exit "$status"
