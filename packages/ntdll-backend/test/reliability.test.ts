// The reliability suite on this backend (core's tests run it on child_process). Each random action sequence runs on
// child_process too, where it has the ops: both must agree with the model. FORKEXEC_RELIABILITY_SCALE=small: a quick pass.
import { nodeBackend } from '@forkexec/core';
import { runReliabilitySuite } from '@forkexec/core/testing';
import { backend } from '../src/index.js';

runReliabilitySuite(backend, { peers: [nodeBackend] });
