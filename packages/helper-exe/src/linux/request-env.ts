/**
 * The environment a request carries. Most requests inherit the parent's (core then builds the
 * copy of process.env only if a backend reads `request.env`, about 50 us: one call into Node per
 * variable): its block is encoded once and reused for as long as libc's `environ`, where
 * process.env keeps the variables, holds the same strings (ntdll's parentEnviron snapshot).
 */
import { type SpawnRequest } from '@forkexec/core';
import { processEnvIsEnviron } from '@forkexec/core/backend-kit';
import { parentEnviron } from '@forkexec/ntdll-backend/internal';
import { envBlock } from './wire.js';

/** The parent's environment, encoded, and the `environ` snapshot it was encoded from. */
let inherited: { environ: Buffer; block: Buffer } | undefined;

/**
 * The block last encoded for an inheriting request, with the `environ` snapshot it was encoded
 * from: still the request's while libc's environ holds the same pointers, which the pool's take
 * compares in its native call (FdPassing.takeCheck). Null when there is none to reuse.
 */
export function encodedEnviron(request: SpawnRequest): { environ: Buffer; block: Buffer } | null {
  return request.inheritsEnv && inherited && processEnvIsEnviron() ? inherited : null;
}

/** The request's environment as a wire block. */
export function requestEnv(request: SpawnRequest): Buffer {
  const environ = request.inheritsEnv ? parentEnviron() : undefined;
  if (!environ) return envBlock(request.env);
  if (inherited?.environ === environ) return inherited.block; // parentEnviron() hands out its last copy while environ holds the same
  const block = envBlock(request.env);
  inherited = { environ, block };
  return block;
}
