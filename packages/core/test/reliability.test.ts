import { loadBackend, nodeBackend, registerBackend, type Backend } from '@forkexec/core';
import { runReliabilitySuite, type ReliabilityOptions } from '@forkexec/core/testing';
import { backend as helperExe } from '@forkexec/helper-exe';
import { backend as ntdll } from '@forkexec/ntdll-backend';

// Jest maps the backend packages to their sources: registered here, they share this copy of core.
registerBackend('ntdll', () => ntdll);
registerBackend('helper-exe', () => helperExe);

/** FORKEXEC_RELIABILITY_SCALE=small runs a quick pass (for development); CI runs the full counts. */
/** FORKEXEC_RELIABILITY_RUNS sets the random sequences per property (default 60) for a longer hunt. */
const scale: ReliabilityOptions = {
  ...(process.env.FORKEXEC_RELIABILITY_SCALE === 'small'
    ? { sequential: 300, inFlight: 100, volumeBytes: 8 * 1024 * 1024, propertyRuns: 20 }
    : {}),
  ...(process.env.FORKEXEC_RELIABILITY_RUNS ? { propertyRuns: Number(process.env.FORKEXEC_RELIABILITY_RUNS) } : {}),
};

const others = ['ntdll', 'helper-exe'].map((name) => {
  const backend = loadBackend(name);
  const probe = backend.capabilities.platforms.includes(process.platform)
    ? backend.probe()
    : { ok: false as const, reason: `not for ${process.platform}` };
  return { name, backend, why: probe.ok ? undefined : probe.reason };
});
const working: Backend[] = others.filter((o) => !o.why).map((o) => o.backend);

runReliabilitySuite(nodeBackend, { ...scale, peers: working });
afterAll(() => Promise.all(working.map((backend) => backend.dispose?.())));
for (const { name, backend, why } of others) {
  if (why) describe(`forkexec reliability: ${name}`, () => it.skip(`[skipped: ${why}]`, () => {}));
  else runReliabilitySuite(backend, scale);
}
