import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface LoadedPeer<T> {
  module: T;
  version: string;
}

/** The version in the package.json that owns `file`. */
function versionOf(name: string, file: string): string {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === name) return pkg.version ?? 'unknown';
  }
  return 'unknown';
}

/**
 * Imports a package the way the user's project would see it (from the working directory),
 * else from beside the CLI; null when it is not installed.
 */
export async function importPeer<T>(name: string): Promise<LoadedPeer<T> | null> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const dir of [process.cwd(), here]) {
    let resolved: string;
    try {
      resolved = createRequire(path.join(dir, 'noop.js')).resolve(name);
    } catch {
      continue;
    }
    const module = (await import(pathToFileURL(resolved).href)) as T;
    return { module, version: versionOf(name, resolved) };
  }
  return null;
}
