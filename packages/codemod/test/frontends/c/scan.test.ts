import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from '@forkexec/core';
import { formatReport, mergeScanShards, runScan, runScanShard, type ScanReport } from '../../../src/scan/index.js';
import { parseShard } from '../../../src/scan/shard.js';
import { FIXTURES } from './fixture-harness.js';
import { generateTree } from './generate-tree.mjs';

// The census over a generated tree of C projects: every site found once, in the right class, with helpers in
// other files followed. Its speed is measured by test/frontends/c/bench-scan.mjs, not asserted here.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'forkexec-scan-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('counts every class per project on a generated tree', async () => {
  const expected = generateTree(dir, { projects: 3, filesPerProject: 120 });
  const progress: number[] = [];
  const report = await runScan([dir], { jobs: 0, onProgress: (done) => progress.push(done) });
  expect(report.files).toBe(expected.files);
  expect(report.sites).toHaveLength(expected.sites);
  expect(Object.fromEntries(report.classes.map((c) => [c.class, c.sites]))).toEqual(expected.classes);
  expect(report.convertible).toBe(expected.convertible);
  expect(Object.fromEntries(report.projects.map((p) => [p.project, p.sites]))).toEqual(expected.perProject);
  expect(report.errors).toEqual([]);
  expect(progress.at(-1)).toBe(expected.files);
  // Two calls deep through a file that names neither fork nor exec.
  expect(report.sites.filter((s) => s.reason?.includes('two calls deep'))).toHaveLength(
    expected.classes['exec-via-helper'] / 2,
  );
  const text = formatReport(report);
  expect(text).toMatch(/^project\s+files\s+sites\s+fork\+exec\s+convertible/m);
  expect(text).toMatch(/^proj0\s+122\s+/m);
  expect(text).toMatch(/^exec-via-helper\s+\d+\s+\d+%$/m);
  expect(text).toMatch(/^dup2\s+\d+\s+\d+%$/m);
});

test('the fixtures as one project: the same sites the frontend reports, and JSON-ready', async () => {
  const report = await runScan([FIXTURES], { jobs: 0 });
  expect(report.projects.map((p) => p.project).sort()).toContain('ifdef-in-case-zero');
  const ifdef = report.sites.find((s) => s.file.endsWith('ifdef-in-case-zero/input.c'))!;
  // Statements after #endif inside case 0 still count as the child's, and the exec is found.
  expect(ifdef).toMatchObject({
    class: 'fork+exec',
    exec: 'execvp',
    convertible: true,
    operations: ['setsid', 'setpgid', 'dup2'],
  });
  expect(JSON.parse(JSON.stringify(report)).sites).toHaveLength(report.sites.length);
});

test('a path that does not exist is a typed error', async () => {
  await expect(runScan([path.join(dir, 'nope')])).rejects.toBeInstanceOf(InvalidArgumentError);
});

test("a project's headers tell the other files what never returns and which macro forks", async () => {
  const project = path.join(dir, 'facts-project');
  mkdirSync(project, { recursive: true });
  writeFileSync(path.join(project, 'Makefile'), 'all:\n');
  writeFileSync(
    path.join(project, 'util.h'),
    '#define xfork() fork()\nvoid die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));\n',
  );
  writeFileSync(
    path.join(project, 'run.cpp'),
    `#include "util.h"
int run(char **v) {
	int pid = xfork();
	if (pid == 0) {
		execv(v[0], v);
		die("exec %s", v[0]);
	}
	return pid;
}
`,
  );
  const report = await runScan([project], { jobs: 0 });
  expect(report.sites.map((s) => [s.call, s.class, s.convertible])).toEqual([['xfork', 'fork+exec', true]]);
});

const timeless = (report: ScanReport) => ({ ...report, elapsedMs: 0 });

test("three shards merged give the unsharded census, helpers in other shards' files followed", async () => {
  const tree = path.join(dir, 'sharded');
  const expected = generateTree(tree, { projects: 2, filesPerProject: 60 });
  const wrapped = path.join(tree, 'wrapped');
  mkdirSync(wrapped);
  writeFileSync(
    path.join(wrapped, 'a.c'),
    'int xfork(void) { int pid = fork(); if (pid < 0) _exit(1); return pid; }\n',
  );
  writeFileSync(path.join(wrapped, 'b.c'), 'void b(char **v) { if (xfork() == 0) { execv(v[0], v); _exit(1); } }\n');
  writeFileSync(path.join(wrapped, 'c.c'), 'void c(void) { if (xfork() == 0) { work(); _exit(0); } }\n');
  const whole = await runScan([tree, FIXTURES], { jobs: 0 });
  const files: string[] = [];
  for (const index of [3, 1, 2]) {
    const shard = await runScanShard([tree, FIXTURES], { index, count: 3 }, { jobs: 0 });
    expect(shard.results.length).toBeLessThan(whole.files);
    files.push(path.join(dir, `shard-${index}.json`));
    writeFileSync(files.at(-1)!, JSON.stringify(shard));
  }
  const merged = await mergeScanShards(files);
  expect(timeless(merged)).toEqual(timeless(whole));
  // a wrapper in one shard's file, its calls in the others': merge analyses the callers again
  expect(
    merged.sites
      .filter((s) => s.call === 'xfork' && s.file.startsWith(wrapped))
      .map((s) => [path.basename(s.file), s.class]),
  ).toEqual([
    ['b.c', 'fork+exec'],
    ['c.c', 'fork-only'],
  ]);
  expect(formatReport(merged).split('\n').slice(1)).toEqual(formatReport(whole).split('\n').slice(1));
  expect(merged.sites.filter((s) => s.class === 'exec-via-helper' && s.file.startsWith(tree))).toHaveLength(
    expected.classes['exec-via-helper'],
  );
});

test('a bad shard, or files that are not the shards of one census, are typed errors naming the file', async () => {
  for (const bad of ['0/3', '4/3', '1/0', '2', 'a/b', '1/2/3'])
    expect(() => parseShard(bad)).toThrow(new RegExp(`I/N .*"${bad}"`));
  expect(parseShard(' 2/5 ')).toEqual({ index: 2, count: 5 });
  const write = (name: string, text: string) => {
    writeFileSync(path.join(dir, name), text);
    return path.join(dir, name);
  };
  const one = await runScanShard([FIXTURES], { index: 1, count: 2 }, { jobs: 0 });
  const two = await runScanShard([FIXTURES], { index: 2, count: 2 }, { jobs: 0 });
  const first = write('one.json', JSON.stringify(one));
  const cases: [string[], RegExp][] = [
    [[], /no shard files given/],
    [[path.join(dir, 'absent.json')], /cannot read .*absent\.json/],
    [[write('broken.json', '{"format":')], /broken\.json is not JSON/],
    [
      [write('report.json', JSON.stringify(await runScan([FIXTURES], { jobs: 0 })))],
      /report\.json is not the output of forkexec scan --shard/,
    ],
    [[first], /missing shard 2\/2/],
    [[first, first], /one\.json and .*one\.json are both shard 1\/2/],
    [[first, write('other.json', JSON.stringify({ ...two, shard: { index: 2, count: 3 } }))], /not the same census/],
    [[first, write('short.json', JSON.stringify({ ...two, results: two.results.slice(1) }))], /not the same tree/],
  ];
  for (const [files, message] of cases) {
    const error = await mergeScanShards(files).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(message);
  }
});
