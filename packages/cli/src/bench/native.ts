import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativePrograms {
  /** The C posix_spawn floor, or null with the reason. */
  floor: string | null;
  /** The tiny program every method spawns. */
  target: string;
  targetStatic: boolean;
  compiler: string | null;
  /** Why the built programs are missing, when they are. */
  missing?: string;
}

/** The cli package folder, found upwards from this module (src/bench/ under Jest, dist/ when bundled). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === '@forkexec/cli') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('forkexec bench: cannot find the @forkexec/cli package folder');
    dir = parent;
  }
}

/** The programs `scripts/build-native.mjs` built into dist/native/, falling back to /bin/true. */
export function findNativePrograms(): NativePrograms {
  const dir = path.join(packageRoot(), 'dist', 'native');
  const floor = path.join(dir, 'spawn-floor');
  const target = path.join(dir, 'bench-target');
  if (existsSync(floor) && existsSync(target)) {
    const build = JSON.parse(readFileSync(path.join(dir, 'build.json'), 'utf8')) as {
      compiler: string;
      targetStatic: boolean;
    };
    return { floor, target, targetStatic: build.targetStatic, compiler: build.compiler };
  }
  return {
    floor: null,
    target: '/bin/true',
    targetStatic: false,
    compiler: null,
    missing: `the bench's C programs are not built (${dir}): build them with a C compiler (CC, default cc): node ${path.join(packageRoot(), 'scripts', 'build-native.mjs')}`,
  };
}
