// Preloaded into Windows node under Wine (--import): resolves `koffi` to the win32-x64 install
// in .cache/wine (FORKEXEC_WINE_KOFFI), since the checkout's node_modules holds the Linux build.
import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';

const koffi = pathToFileURL(process.env.FORKEXEC_WINE_KOFFI).href;
registerHooks({
  resolve: (specifier, context, next) =>
    specifier === 'koffi' ? { url: koffi, format: 'commonjs', shortCircuit: true } : next(specifier, context),
});
