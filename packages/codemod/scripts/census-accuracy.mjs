// The scanner against hand labels: node scripts/census-accuracy.mjs CHECKOUTS [LABELS]
// CHECKOUTS holds one checkout per project, named as the labels name them (owner+repo), at the commits the labels
// name; LABELS defaults to test/fixtures/census-labels.json. Prints every labelled site the scan classes otherwise or
// does not report, then recall (labelled fork call sites the scan reports) and agreement (labelled sites whose class
// the scan gets right, over the sites it reports and over all). Run `npm run build -w @forkexec/codemod` first.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScan } from '../dist/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const [checkouts, labelsFile = path.join(here, '../test/fixtures/census-labels.json')] = process.argv.slice(2);
if (!checkouts) {
  console.error('usage: node scripts/census-accuracy.mjs CHECKOUTS [LABELS]');
  process.exit(2);
}
const labels = JSON.parse(readFileSync(labelsFile, 'utf8'));
const projects = Object.keys(labels.commits);
for (const project of projects) {
  const dir = path.join(checkouts, project);
  if (!existsSync(dir)) {
    console.error(`${dir}: missing (clone the project at ${labels.commits[project]})`);
    process.exit(2);
  }
  const head = execFileSync('git', ['-C', dir, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  if (head !== labels.commits[project]) console.warn(`${project}: at ${head}, labelled at ${labels.commits[project]}`);
}
const report = await runScan(
  projects.map((p) => path.join(checkouts, p)),
  { jobs: 1 },
);
const key = (project, file, line) => `${project}/${file}:${line}`;
const found = new Map();
for (const s of report.sites) {
  const rel = path.relative(path.resolve(checkouts), s.file).split(path.sep);
  found.set(key(rel[0], rel.slice(1).join('/'), s.line), s);
}
let reported = 0;
let agreed = 0;
const wrong = [];
for (const l of labels.sites) {
  const s = found.get(key(l.project, l.file, l.line));
  if (s) reported++;
  if (s?.class === l.label) agreed++;
  else wrong.push([key(l.project, l.file, l.line), l.label, s ? s.class : 'not reported', s?.reason ?? '']);
}
const labelled = new Set(labels.sites.map((l) => key(l.project, l.file, l.line)));
const unlabelled = [...found].filter(([k]) => !labelled.has(k));
const pct = (n, d) => `${((100 * n) / d).toFixed(1)}%`;
for (const w of wrong) console.log(w.join('\t'));
for (const [k, s] of unlabelled) console.log([k, 'no label', s.class, s.reason ?? ''].join('\t'));
const n = labels.sites.length;
console.log(
  `\n${n} labelled sites in ${projects.length} projects; the scan reports ${report.sites.length} sites there\n` +
    `recall: ${reported}/${n} = ${pct(reported, n)}\n` +
    `agreement: ${agreed}/${reported} of the reported = ${pct(agreed, reported)}; ${agreed}/${n} of all = ${pct(agreed, n)}\n` +
    `reported sites no label names: ${unlabelled.length}`,
);
