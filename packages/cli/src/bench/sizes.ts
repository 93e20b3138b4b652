import { InvalidArgumentError } from '@forkexec/core';

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Parses `50M`, `1G`, `1.5G`, `4096` (bytes; K/M/G/T are powers of 1024, an optional `iB`/`B` is allowed). */
export function parseSize(text: string, option = '--rss'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(text);
  const bytes = match ? Math.round(Number(match[1]) * UNITS[match[2].toUpperCase()]) : NaN;
  if (!Number.isFinite(bytes) || bytes <= 0)
    throw new InvalidArgumentError(`${option} expects sizes such as 50M, 1G or 4G, got ${JSON.stringify(text)}`);
  return bytes;
}

/** `1073741824` → `1 GiB`, `52428800` → `50 MiB`. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', UNITS.T],
    ['GiB', UNITS.G],
    ['MiB', UNITS.M],
    ['KiB', UNITS.K],
  ] as const)
    if (bytes >= size) return `${Number((bytes / size).toFixed(bytes / size < 10 ? 2 : 1))} ${unit}`;
  return `${bytes} B`;
}

/** Splits a comma-separated option value, dropping empty entries. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A positive integer option. */
export function parsePositiveInt(text: string, option: string, min = 1): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min)
    throw new InvalidArgumentError(`${option} expects an integer >= ${min}, got ${JSON.stringify(text)}`);
  return value;
}
