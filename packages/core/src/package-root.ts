import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of the package named `name` that holds the module at `moduleUrl` (its `import.meta.url`): the nearest
 * package.json of that name above it, whether the module runs from src, dist or a bundle chunk; undefined if none.
 * Backends find their native parts there (dist/<platform>-<arch>/).
 */
export function packageRoot(moduleUrl: string, name: string): string | undefined {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (let i = 0; i < 5; i++) {
    try {
      if (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name === name) return dir;
    } catch {}
    dir = path.dirname(dir);
  }
  return undefined;
}
