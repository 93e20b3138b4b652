// The reliability suite on core's own backend (child_process). Each backend package runs it on its backend from its
// own tests; FORKEXEC_RELIABILITY_SCALE=small runs a quick pass, FORKEXEC_RELIABILITY_RUNS=N a longer hunt.
import { nodeBackend } from '@forkexec/core';
import { runReliabilitySuite } from '@forkexec/core/testing';

runReliabilitySuite(nodeBackend);
