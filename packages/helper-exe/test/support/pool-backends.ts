/** helper-exe backends on the test's helper binary, disposed after each test, and the probe run on them. */
import { forkBeforeExec, type Backend, type Options } from '@forkexec/core';
import { probePath } from '@forkexec/core/testing';
import { createBackend, type HelperExeBackend, type HelperExeOptions } from '../../src/index.js';

/** Registers an afterEach that disposes every backend made; returns the maker. Call at the top level. */
export function poolBackends(helperPath: () => string): (options?: HelperExeOptions) => HelperExeBackend {
  const backends: Backend[] = [];
  afterEach(async () => {
    await Promise.all(backends.splice(0).map((b) => b.dispose?.()));
  });
  return (options = {}) => {
    const backend = createBackend({ helperPath: helperPath(), ...options });
    backends.push(backend);
    return backend;
  };
}

export const runProbe = (backend: Backend, args: string[], options: Options = {}) =>
  forkBeforeExec(probePath(), args, { backend, ...options });
