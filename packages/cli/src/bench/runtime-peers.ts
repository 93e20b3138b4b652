import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Driver, drivenMethod } from './driven.js';
import type { Method } from './method.js';
import { packageRoot } from './native.js';

/** The runtimes compared in a process of their own, each driving its usual spawn (see peers/). */
export const RUNTIME_PEERS = ['bun', 'python'] as const;
export type RuntimePeer = (typeof RUNTIME_PEERS)[number];

/** Bun's npm package for this platform, which holds the binary as bin/bun (no install script needed). */
const BUN_PACKAGE = `@oven/bun-${process.platform}-${process.arch === 'arm64' ? 'aarch64' : process.arch}`;

/** The first line `program --version` prints, or null when it does not run. */
function versionOf(program: string): string | null {
  try {
    return execFileSync(program, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 10_000,
    })
      .trim()
      .split('\n')[0];
  } catch {
    return null;
  }
}

/** `bun` on PATH, else Bun's npm package installed where the project or this CLI resolves packages. */
function findBun(): { program: string; version: string } | null {
  const onPath = versionOf('bun');
  if (onPath) return { program: 'bun', version: onPath };
  for (const dir of [process.cwd(), packageRoot()]) {
    let manifest: string;
    try {
      manifest = createRequire(path.join(dir, 'noop.js')).resolve(`${BUN_PACKAGE}/package.json`);
    } catch {
      continue;
    }
    const program = path.join(path.dirname(manifest), 'bin', 'bun');
    const version = versionOf(program);
    if (version) return { program, version };
  }
  return null;
}

/**
 * How each runtime peer spawns the target: Bun.spawn + `await exited`, Python's
 * subprocess.Popen + wait (what subprocess.run does), in a process of its own holding the same
 * ballast. A string says why it is skipped, with how to install it.
 */
export function runtimePeerMethod(name: RuntimePeer, target: string): Method | string {
  const peers = path.join(packageRoot(), 'peers');
  switch (name) {
    case 'bun': {
      const bun = findBun();
      if (!bun)
        return `not installed: put bun on PATH, or \`npm install --no-save ${BUN_PACKAGE}\` (npm run bench:docs does)`;
      const info = { name, kind: 'peer', version: `bun ${bun.version}`, forks: false } as const;
      return drivenMethod(info, new Driver(name, bun.program, [path.join(peers, 'bun-spawn.mjs')], target));
    }
    case 'python': {
      const version = versionOf('python3');
      if (!version) return 'python3 not found on PATH (apt-get install python3)';
      const info = { name, kind: 'peer', version: version.replace(/^Python/, 'python'), forks: false } as const;
      return drivenMethod(info, new Driver(name, 'python3', [path.join(peers, 'python-subprocess.py')], target));
    }
  }
}
