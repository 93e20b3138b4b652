// Builds the conformance probe (testing/probe.c) into dist/ with the system C compiler.
import { execFileSync } from 'node:child_process';
const { buildProbe } = await import('../dist/testing.js');
const binary = new URL('../dist/fxprobe', import.meta.url).pathname;
try {
  buildProbe(new URL('../testing/probe.c', import.meta.url).pathname, binary);
} catch (error) {
  console.error(`@forkexec/core: ${error.message}`);
  process.exit(1);
}
execFileSync(binary, ['exit', '0']);
