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
    .filter(
      (name) => existsSync(path.join(FIXTURES, name, 'input.c')) || existsSync(path.join(FIXTURES, name, 'input.cc')),
    )
    .sort();
}

/** The fixture's source ending: `.cc` for a C++ fixture (input.cc, output.cc, compiled with g++), else `.c`. */
export function fixtureEnding(name: string): '.c' | '.cc' {
  return existsSync(path.join(FIXTURES, name, 'input.cc')) ? '.cc' : '.c';
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

/** Compiles source (and more .c files: name → text) against the C fork_before_exec (forkexec.h, libforkexec.c,
 * action-core.c) into dir/name; throws with the compiler's output. ending '.cc': source is C++, compiled with g++ (the
 * runtime stays C, compiled with cc, as a C++ project adds it). */
export function compile(
  source: string,
  dir: string,
  name: string,
  more: Record<string, string> = {},
  ending: '.c' | '.cc' = '.c',
): string {
  const src = path.join(dir, `${name}${ending}`);
  const bin = path.join(dir, name);
  writeFileSync(src, source);
  for (const [file, text] of Object.entries(more)) writeFileSync(path.join(dir, file), text);
  const runtime = ['libforkexec.c', 'action-core.c'].map((file) => path.join(NATIVE, file));
  const warnings = ['-Wall', '-Werror=unused-variable']; // a copied declaration must not leave one (-Werror builds)
  const run = (compiler: string, args: string[], what: string) => {
    try {
      execFileSync(compiler, args, { stdio: 'pipe' });
    } catch (error) {
      throw new Error(`${what} does not compile:\n${(error as { stderr?: Buffer }).stderr?.toString()}`);
    }
  };
  const cc = process.env.CC ?? 'cc';
  if (ending === '.c') {
    const sources = [src, ...Object.keys(more).map((file) => path.join(dir, file)), ...runtime];
    run(
      cc,
      ['-std=c99', ...warnings, '-Werror=implicit-function-declaration', '-I', NATIVE, '-o', bin, ...sources],
      src,
    );
    return bin;
  }
  const objects = runtime.map((file) => {
    const object = path.join(dir, `${path.basename(file)}.o`);
    run(cc, ['-std=c99', '-I', NATIVE, '-c', '-o', object, file], file);
    return object;
  });
  run(
    process.env.CXX ?? 'g++',
    ['-std=c++11', ...warnings, '-pedantic', '-I', NATIVE, '-o', bin, src, ...objects],
    src,
  );
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
