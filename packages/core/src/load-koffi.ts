import { createRequire } from 'node:module';
import { BackendLoadError } from './errors.js';

/**
 * koffi, required from the module at `from` (its `import.meta.url`, or a path): core does not
 * depend on koffi, the backend package that calls this does. Node caches the module, so a second
 * call costs a lookup. Throws a BackendLoadError naming what `user` (say "the ntdll backend")
 * needs and what to install. `Koffi` is the caller's view of koffi's API (typed where it is used).
 */
export function loadKoffi<Koffi>(from: string | URL, user: string): Koffi {
  try {
    return createRequire(from)('koffi') as Koffi;
  } catch (error) {
    throw new BackendLoadError(
      `koffi does not load on ${process.platform}-${process.arch} (${user} needs it): ${(error as Error).message.split('\n')[0]}`,
      {
        cause: error,
        hint: `Install it with \`npm install koffi\` (with its optional package @koromix/koffi-${process.platform}-${process.arch}, which must match this node).`,
      },
    );
  }
}
