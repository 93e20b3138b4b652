import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { addTwins } from '../frontends/c/twin-edits.js';
import type { Companion } from '../model.js';
import { unifiedDiff } from './diff.js';
import type { FileReport } from './process-file.js';
import { writeFileAtomic } from './write-atomic.js';

/**
 * Adds the code conversions need in other files (recording twins, recording-twin.ts) once every file is done: each
 * file once, whatever number of files asked, on top of its own conversion (on disk, or with `dry` its rewritten text,
 * diffed whole against the file). Its report becomes converted (a new one for a file outside the run's paths); a file
 * the twins cannot go into is an error, named with the files that need it.
 */
export async function addCompanions(reports: FileReport[], cwd: string, dry: boolean): Promise<void> {
  const byFile = new Map<string, { companions: Companion[]; askers: string[] }>();
  for (const r of reports)
    for (const c of r.companions ?? []) {
      const entry = byFile.get(c.file) ?? { companions: [], askers: [] };
      entry.companions.push(c);
      if (!entry.askers.includes(r.file)) entry.askers.push(r.file);
      byFile.set(c.file, entry);
    }
  for (const [absolute, { companions, askers }] of byFile) {
    const file = path.relative(cwd, absolute) || absolute;
    let report = reports.find((r) => r.file === file);
    if (!report) reports.push((report = { file, status: 'unchanged', sites: [] }));
    try {
      const onDisk = await readFile(absolute, 'utf8');
      const base = dry ? (report.code ?? onDisk) : onDisk;
      const code = await addTwins(base, companions);
      if (code === base) continue;
      if (dry) report.diff = unifiedDiff(onDisk, code, file.split(path.sep).join('/'));
      else await writeFileAtomic(absolute, code);
      report.status = 'converted';
    } catch (error) {
      report.status = 'error';
      report.error = { message: `the recording twins ${askers.join(', ')} call: ${(error as Error).message}` };
    }
  }
  for (const r of reports) delete r.code;
}
