// The real-code check of the C codemod: node scripts/real-code-census.mjs CHECKOUTS [WORKDIR]
// CHECKOUTS holds one checkout per project (nothing of them belongs in this repository). Each is copied into WORKDIR
// (default: a temporary folder), scanned, and converted in place there; the table says per project how many fork
// sites, how many fork+exec, how many converted, then the reasons for the rest. Build the converted copies with each
// project's own build, adding -I packages/helper-exe/native and native/libforkexec.c + native/action-core.c.
// Run `npm run build -w @forkexec/codemod` first: this script uses the built package.
import { cpSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCodemod, runScan } from '../dist/index.js';

const [checkouts, work = mkdtempSync(path.join(tmpdir(), 'forkexec-census-'))] = process.argv.slice(2);
if (!checkouts) {
  console.error('usage: node scripts/real-code-census.mjs CHECKOUTS [WORKDIR]');
  process.exit(2);
}
const quiet = { stdout: () => {}, stderr: () => {} };
const rows = [];
const reasons = new Map();
for (const name of readdirSync(checkouts).sort()) {
  const from = path.join(checkouts, name);
  if (!statSync(from).isDirectory()) continue;
  const copy = path.join(work, name);
  cpSync(from, copy, { recursive: true });
  const scan = await runScan([copy], { jobs: 1 });
  const report = await runCodemod({ paths: [copy], cwd: copy, json: true, ...quiet });
  const sites = report.files.flatMap((f) => f.sites).filter((s) => s.class === 'fork+exec');
  for (const s of sites.filter((x) => !x.converted)) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
  rows.push([
    name,
    scan.sites.length,
    scan.sites.filter((s) => s.class === 'fork+exec').length,
    report.totals.sitesConverted,
  ]);
}
const total = rows.reduce((t, r) => [t[0], t[1] + r[1], t[2] + r[2], t[3] + r[3]], ['total', 0, 0, 0]);
console.log(['project', 'sites', 'fork+exec', 'converted'].join('\t'));
for (const r of [...rows, total]) console.log(r.join('\t'));
console.log(`\nconverted copies in ${work}\n\nwhy the other fork+exec sites were left:`);
for (const [reason, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`${n}\t${reason}`);
