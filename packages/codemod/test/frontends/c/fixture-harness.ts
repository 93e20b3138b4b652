import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The C fixtures: test/fixtures/c/<shape>/input.c, with output.c when the shape converts and sites.json. */
export const FIXTURES = path.resolve(__dirname, '../../fixtures/c');
/** The C fork_before_exec runtime that rewritten C calls (forkexec.h), as @forkexec/helper-exe ships it. */
export const NATIVE = path.join(path.dirname(require.resolve('@forkexec/helper-exe/package.json')), 'native');

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES)
    .filter((name) => existsSync(path.join(FIXTURES, name, 'input.c')))
    .sort();
}

export function readFixture(name: string, file: string): string | undefined {
  const p = path.join(FIXTURES, name, file);
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

/** Set FORKEXEC_UPDATE_FIXTURES=1 to write output.c and sites.json from the current codemod (then review the diff). */
export const UPDATE = process.env.FORKEXEC_UPDATE_FIXTURES === '1';

export function writeFixture(name: string, file: string, text: string | undefined): void {
  const p = path.join(FIXTURES, name, file);
  if (text === undefined) rmSync(p, { force: true });
  else writeFileSync(p, text);
}

export interface Run {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Compiles a C program against the C fork_before_exec (forkexec.h, libforkexec.c, action-core.c); throws with the compiler's output. */
/** Compiles source (and more .c files: name → text) with the C runtime into dir/name. */
export function compile(source: string, dir: string, name: string, more: Record<string, string> = {}): string {
  const src = path.join(dir, `${name}.c`);
  const bin = path.join(dir, name);
  writeFileSync(src, source);
  for (const [file, text] of Object.entries(more)) writeFileSync(path.join(dir, file), text);
  try {
    execFileSync(
      process.env.CC ?? 'cc',
      [
        '-std=c99',
        '-Wall',
        '-Werror=implicit-function-declaration',
        '-Werror=unused-variable', // a copied declaration must not leave one (a -Werror project's build would fail)
        '-I',
        NATIVE,
        '-o',
        bin,
        src,
        ...Object.keys(more).map((file) => path.join(dir, file)),
        path.join(NATIVE, 'libforkexec.c'),
        path.join(NATIVE, 'action-core.c'),
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    throw new Error(`${name}.c does not compile:\n${(error as { stderr?: Buffer }).stderr?.toString()}`);
  }
  return bin;
}

/** Runs a fixture program in a fresh directory at the same path each time (so cwd output compares). */
export function runIn(dir: string, bin: string, args: string[]): Run {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(bin, args, {
    cwd: dir,
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/home/fixture', LC_ALL: 'C' },
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'forkexec-c-fixture-'));
}
