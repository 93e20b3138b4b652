// Each backend package runs the reliability suite from its own test file, and each file prints its own table.
// This joins them: it names a directory in FORKEXEC_RELIABILITY_ROWS, where every test file leaves its rows
// (packages/core/src/testing/reliability-report.ts), and at the end prints one table with a total, in the order
// of the projects given as its option, and appends it to the file named by FORKEXEC_RELIABILITY_REPORT.
const { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

module.exports = class ReliabilityReporter {
  constructor(_globalConfig, { projects = [] } = {}) {
    this.projects = projects;
  }

  onRunStart() {
    // Set before Jest starts its workers, which inherit it.
    this.dir = mkdtempSync(path.join(tmpdir(), 'forkexec-reliability-rows-'));
    process.env.FORKEXEC_RELIABILITY_ROWS = this.dir;
    this.files = []; // [rows file, rank of the project whose test file wrote it]
  }

  onTestFileResult(test) {
    const rank = this.projects.indexOf(test.context.config.displayName?.name);
    for (const file of readdirSync(this.dir))
      if (!this.files.some(([seen]) => seen === file)) this.files.push([file, rank]);
  }

  onRunComplete() {
    const rows = this.files
      .sort((a, b) => a[1] - b[1])
      .flatMap(([file]) => JSON.parse(readFileSync(path.join(this.dir, file), 'utf8')));
    rmSync(this.dir, { recursive: true, force: true });
    delete process.env.FORKEXEC_RELIABILITY_ROWS;
    if (!rows.length) return;
    const { formatReport } = require('@forkexec/core/testing');
    const report = formatReport(rows);
    if (this.files.length > 1) process.stdout.write(`\n${report}\n`); // a single file has printed this table already
    if (process.env.FORKEXEC_RELIABILITY_REPORT)
      appendFileSync(process.env.FORKEXEC_RELIABILITY_REPORT, `${report}\n\n`);
  }
};
