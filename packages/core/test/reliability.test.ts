import { nodeBackend } from '@forkexec/core';
import { runReliabilitySuite } from '@forkexec/core/testing';

const scale = process.env.FX_SMALL ? { sequential: 200, inFlight: 100, volumeBytes: 8 * 1024 * 1024, propertyRuns: 20 } : {};
runReliabilitySuite(nodeBackend, scale);
