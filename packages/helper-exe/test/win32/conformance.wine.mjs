// The core conformance suite on the Windows helper, on Windows node (run under Wine by scripts/test-wine.sh).
import { after, describe, it } from 'node:test';
import { runConformanceSuite, wineVersion } from '@forkexec/core/testing';
import { createBackend } from '@forkexec/helper-exe';

// Each spawn here is two Wine process creations (helper and program): 256 children take minutes
// on two cores. win32-helper.wine.mjs checks exit codes, 32-bit ones included.
const skip = wineVersion()
  ? {
      'exit codes 0..255 arrive exactly':
        'under Wine 256 children through stand-ins take minutes; win32-helper.wine.mjs covers exit codes',
    }
  : {};

const backend = createBackend();
after(() => backend.dispose());
runConformanceSuite(backend, { describe, it, skip });
