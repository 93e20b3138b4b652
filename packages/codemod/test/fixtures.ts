/** The JS fixtures: test/fixtures/js/NAME/input.EXT, output.EXT when it converts, sites.json, options.json. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { JsOptions } from '../src/frontends/js/index.js';
import type { ForkSite } from '../src/model.js';

export const FIXTURES_DIR = path.join(__dirname, 'fixtures', 'js');

export interface ExpectedSite {
  line: number;
  class: ForkSite['class'];
  converted: boolean;
  reason?: string;
}

export interface Fixture {
  name: string;
  dir: string;
  inputFile: string;
  input: string;
  outputFile: string;
  /** The expected rewrite; null when the file must stay unchanged. */
  output: string | null;
  sites: ExpectedSite[];
  options: JsOptions;
}

export function summarise(sites: ForkSite[]): ExpectedSite[] {
  return sites.map((s) => ({
    line: s.line,
    class: s.class,
    converted: Boolean(s.converted),
    ...(s.converted ? {} : { reason: s.reason }),
  }));
}

export function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURES_DIR)
    .sort()
    .map((name) => {
      const dir = path.join(FIXTURES_DIR, name);
      const inputName = readdirSync(dir).find((f) => f.startsWith('input.'))!;
      const ext = path.extname(inputName);
      const outputFile = path.join(dir, `output${ext}`);
      const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : null);
      return {
        name,
        dir,
        inputFile: path.join(dir, inputName),
        input: readFileSync(path.join(dir, inputName), 'utf8'),
        outputFile,
        output: read(outputFile),
        sites: JSON.parse(read(path.join(dir, 'sites.json')) ?? '[]') as ExpectedSite[],
        options: JSON.parse(read(path.join(dir, 'options.json')) ?? '{}') as JsOptions,
      };
    });
}
