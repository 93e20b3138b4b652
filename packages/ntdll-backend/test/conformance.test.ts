import { runConformanceSuite } from '@forkexec/core/testing';
import { backend } from '../src/index.js';

runConformanceSuite(backend);
