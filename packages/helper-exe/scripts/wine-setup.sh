# Shared by test-wine.sh and bench-wine.sh (sourced, not run): the repo's Wine setup
# (scripts/wine/wine-env.sh: Wine, Windows node, koffi's win32 build, a persistent wineserver,
# FORKEXEC_WINEPREFIX, FORKEXEC_WINE_KOFFI and koffi_hook), the mingw programs of ntdll-backend
# (noop.exe for the benchmark) and of this package, and this package's Windows helper (the package
# build skips it when mingw-w64 was not installed yet). Stops Wine on exit. Sets pkg_dir (this package).
pkg_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$pkg_dir/../../scripts/wine/wine-env.sh"

prepare_wine "$repo/packages/ntdll-backend" "$pkg_dir"
trap stop_wine EXIT
node "$pkg_dir/scripts/build-native.mjs" --available # dist/win32-x64/fxhelper.exe, with mingw-w64
[ -f "$pkg_dir/dist/win32-x64/fxhelper.exe" ] || { log "no dist/win32-x64/fxhelper.exe: install gcc-mingw-w64-x86-64"; exit 1; }
