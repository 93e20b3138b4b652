import type { Frontend } from '../model.js';
import { cFrontend, cppFrontend } from './c/index.js';
import { jsFrontend } from './js/index.js';

/** The language frontends, picked by file ending. The JS/TS, C and C++ frontends register here. */
export const FRONTENDS: Frontend[] = [jsFrontend, cFrontend, cppFrontend];

export function frontendFor(file: string): Frontend | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.d.ts') || lower.endsWith('.d.mts') || lower.endsWith('.d.cts')) return undefined;
  return FRONTENDS.find((f) => f.extensions.some((ext) => lower.endsWith(ext)));
}
