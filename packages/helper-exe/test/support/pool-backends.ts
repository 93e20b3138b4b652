/** helper-exe backends on the test's helper binary, disposed after each test, and the probe run on them. */
import { forkBeforeExec, type Backend, type Options } from '@forkexec/core';
import { probePath } from '@forkexec/core/testing';
import { createBackend, type HelperExeBackend, type HelperExeOptions } from '../../src/index.js';

/**
 * Registers an afterEach that disposes every backend made; returns the maker. Call at the top level.
 * The pool goes idle after a minute unless a test says otherwise: with the default 2 s, a loaded
 * machine can drain it while a test still waits for its warm set.
 */
export function poolBackends(helperPath: () => string): (options?: HelperExeOptions) => HelperExeBackend {
  const backends: Backend[] = [];
  afterEach(async () => {
    await Promise.all(backends.splice(0).map((b) => b.dispose?.()));
  });
  return (options = {}) => {
    const backend = createBackend({ helperPath: helperPath(), idleTimeoutMs: 60_000, ...options });
    backends.push(backend);
    return backend;
  };
}

export const runProbe = (backend: Backend, args: string[], options: Options = {}) =>
  forkBeforeExec(probePath(), args, { backend, ...options });
