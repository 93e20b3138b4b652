import { createRequire } from 'node:module';
import { BackendLoadError } from '@forkexec/core';

export type Koffi = typeof import('koffi');

let koffi: Koffi | undefined;

/** koffi, loaded on first use only: importing the backend never loads native code. */
export function loadKoffi(): Koffi {
  if (koffi) return koffi;
  try {
    koffi = createRequire(import.meta.url)('koffi') as Koffi;
  } catch (error) {
    throw new BackendLoadError(
      `the ntdll backend needs koffi for ${process.platform}-${process.arch}: ${(error as Error).message}`,
      {
        cause: error,
        hint: 'Install it with `npm install koffi` (its @koromix/koffi-<platform>-<arch> package must match this node).',
      },
    );
  }
  return koffi;
}
