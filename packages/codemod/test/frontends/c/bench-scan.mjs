// Census speed on a generated tree (run after the build): node packages/codemod/test/frontends/c/bench-scan.mjs [files]
// Prints the time for one thread and for one worker per core, and the ratio. Timings are reported, never asserted.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { runScan } from '../../../dist/index.js';
import { generateTree } from './generate-tree.mjs';

const files = Number(process.argv[2] ?? 30000);
// One file in `every` gets a fork site (of 7 kinds, in turn): 25 is dense, 200 is closer to real trees.
const every = Number(process.argv[3] ?? 25);
const projects = 20;
const dir = mkdtempSync(path.join(tmpdir(), 'forkexec-bench-scan-'));
try {
  let t = performance.now();
  const expected = generateTree(dir, { projects, filesPerProject: Math.ceil(files / projects), every });
  console.log(
    `generated ${expected.files} C files, ${expected.sites} fork sites in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const time = async (jobs) => {
    t = performance.now();
    const cpu = process.cpuUsage();
    const report = await runScan([dir], { jobs });
    const s = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    const ok = report.sites.length === expected.sites && report.files === expected.files;
    console.log(
      `jobs=${jobs}: ${s.toFixed(2)} s (process CPU ${((used.user + used.system) / 1e6).toFixed(1)} s), ` +
        `${report.files} files, ${report.parsed} parsed, ${report.sites.length} sites${ok ? '' : ' (MISMATCH)'}`,
    );
    return s;
  };
  const one = await time(0);
  const all = await time(availableParallelism());
  console.log(`ratio one thread / ${availableParallelism()} workers: ${(one / all).toFixed(2)}x`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
