import { nodeBackend } from '@forkexec/core';
import { runConformanceSuite } from '@forkexec/core/testing';

runConformanceSuite(nodeBackend);
