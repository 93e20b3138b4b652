# Shared by test-wine.sh and bench-wine.sh (sourced, not run): the repo's Wine setup
# (scripts/wine/wine-env.sh: Wine, Windows node, koffi's win32 build, a persistent wineserver,
# FORKEXEC_WINEPREFIX, FORKEXEC_WINE_KOFFI and koffi_hook), the mingw programs of ntdll-backend
# (noop.exe for the benchmark) and of this package, and this package's Windows helper (the package
# build skips it when mingw-w64 was not installed yet). Stops Wine on exit. Sets pkg_dir (this package).
pkg_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$pkg_dir/../../scripts/wine/wine-env.sh"

prepare_wine "$repo/packages/ntdll-backend" "$pkg_dir"
trap stop_wine EXIT
(cd "$pkg_dir" && node --input-type=module -e "import { buildWin32Helper } from './scripts/build-win32-helper.mjs'; if (!buildWin32Helper('dist')) process.exit(1);")
