# Shared by test-wine.sh and bench-wine.sh (sourced, not run): ntdll-backend's Wine setup
# (wine-env.sh: Wine, Windows node, koffi's win32 build, a persistent wineserver, FORKEXEC_WINEPREFIX,
# FORKEXEC_WINE_KOFFI and koffi_hook), the mingw programs of both packages, and this package's Windows
# helper (dist/win32-x64/fxhelper.exe; the package build skips it when mingw-w64 was not installed yet). Stops Wine on exit.
# Sets pkg_dir (this package) and ntdll_dir.
helper_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$helper_dir/../ntdll-backend/scripts/wine-env.sh"
ntdll_dir=$pkg_dir

prepare_wine # builds ntdll-backend's programs (noop.exe for the benchmark)
trap stop_wine EXIT
pkg_dir=$helper_dir
build_programs # and this package's (test/win32/programs)
node "$pkg_dir/scripts/build-native.mjs" --available # dist/win32-x64/fxhelper.exe, with mingw-w64
[ -f "$pkg_dir/dist/win32-x64/fxhelper.exe" ] || { log "no dist/win32-x64/fxhelper.exe: install gcc-mingw-w64-x86-64"; exit 1; }
