// The core conformance suite on the Windows helper, on Windows node (run under Wine by scripts/test-wine.sh).
import { after, describe, it } from 'node:test';
import { runConformanceSuite } from '@forkexec/core/testing';
import { createBackend } from '@forkexec/helper-exe';

const backend = createBackend();
after(() => backend.dispose());
runConformanceSuite(backend, { describe, it });
