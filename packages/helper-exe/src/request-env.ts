/**
 * The environment a request carries. Most requests inherit the parent's (core then builds the
 * copy of process.env only if a backend reads `request.env`, about 50 us: one call into Node per
 * variable): its block is encoded once and reused for as long as libc's `environ`, where
 * process.env keeps the variables, holds the same strings.
 */
import { types } from 'node:util';
import type { SpawnRequest } from '@forkexec/core';
import type { FdPassing } from './fd-passing.js';
import { envBlock } from './wire.js';

/** The parent's environment, encoded when `environ` last changed. */
let inherited: Buffer | undefined;

/**
 * Whether process.env is Node's own store, whose writes go to libc's `environ`. Test runners
 * (Jest's sandbox proxy) and code that assigns process.env put an ordinary object in its place,
 * whose changes `environ` never sees.
 */
function envIsEnviron(): boolean {
  const env: object = process.env;
  const proto: unknown = Object.getPrototypeOf(env);
  return !types.isProxy(env) && proto !== Object.prototype && proto !== null;
}

/** The request's environment as a wire block. */
export function requestEnv(request: SpawnRequest, native: FdPassing): Buffer {
  // `inheritsEnv` is read untyped: requests from a core without it simply carry their env.
  if (!(request as { inheritsEnv?: boolean }).inheritsEnv || !envIsEnviron()) return envBlock(request.env);
  if (native.environUnchanged() && inherited) return inherited;
  return (inherited = envBlock(request.env));
}
