// The core conformance suite on Windows node (run under Wine by scripts/test-wine.sh).
import { describe, it } from 'node:test';
import { runConformanceSuite } from '@forkexec/core/testing';
import { createBackend } from '@forkexec/ntdll-backend';

runConformanceSuite(createBackend(), { describe, it });
