import type { Frontend } from '../model.js';

/** The language frontends, picked by file ending. The JS/TS and C frontends register here. */
export const FRONTENDS: Frontend[] = [];

export function frontendFor(file: string): Frontend | undefined {
  const lower = file.toLowerCase();
  return FRONTENDS.find((f) => f.extensions.some((ext) => lower.endsWith(ext)));
}
