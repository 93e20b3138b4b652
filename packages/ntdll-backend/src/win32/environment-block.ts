/** Value of a variable, looked up the Windows way (names are case-insensitive). */
export function getEnv(env: Record<string, string>, name: string): string | undefined {
  if (name in env) return env[name];
  const upper = name.toUpperCase();
  for (const [key, value] of Object.entries(env)) if (key.toUpperCase() === upper) return value;
  return undefined;
}

/**
 * The UTF-16 environment block of a child: `NAME=value\0` entries sorted by upper-cased name,
 * as CreateProcess keeps them, then a closing NUL. Names differing only in case are one
 * variable on Windows: the one set last wins.
 */
export function environmentBlock(env: Record<string, string>): Buffer {
  const byName = new Map<string, string>();
  for (const [key, value] of Object.entries(env)) byName.set(key.toUpperCase(), `${key}=${value}\0`);
  const names = [...byName.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(`${names.map((name) => byName.get(name)).join('')}\0\0`, 'utf16le');
}
