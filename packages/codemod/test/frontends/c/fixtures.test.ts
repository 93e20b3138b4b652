import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { probePath } from '@forkexec/core/testing';
import { factsOf, type ProjectFacts } from '../../../src/frontends/c/facts.js';
import { transformC } from '../../../src/frontends/c/index.js';
import { addTwins } from '../../../src/frontends/c/twin-edits.js';
import { fileOf, guardedLogsOf } from '../../../src/frontends/c/guarded-log.js';
import type { ForkSite } from '../../../src/model.js';
import {
  compile,
  fixtureEnding,
  fixtureNames,
  NATIVE,
  readFixture,
  runIn,
  tempDir,
  UPDATE,
  writeFixture,
} from './fixture-harness.js';
import { transformCpp } from '../../../src/frontends/c/cpp.js';

// Every shape of fork-sites.md as a fixture: how it is classified, what the rewrite makes of it, and, for the
// converted ones, the original and the conversion compiled and run side by side.

type ExpectedSite = Partial<ForkSite> & { reasonMatches?: string };

const summary = (s: ForkSite) => ({
  line: s.line,
  function: s.function,
  call: s.call,
  class: s.class,
  convertible: s.convertible,
  converted: s.converted ?? false,
  operations: s.operations,
  ...(s.exec ? { exec: s.exec } : {}),
  ...(s.reason ? { reason: s.reason } : {}),
});

describe.each(fixtureNames())('C fixture %s', (name) => {
  // a C++ fixture (input.cc): the C frontend with the C++ checks (cpp.ts), compiled with g++
  const ending = fixtureEnding(name);
  const transform = (source: string, file: string, facts?: ProjectFacts) =>
    ending === '.cc' ? transformCpp(source, file, facts, transformC) : transformC(source, file, facts);
  const input = readFixture(name, `input${ending}`)!;
  // helpers.c: another file of the same program, whose functions the child calls; compiled with both versions.
  const helpers = readFixture(name, 'helpers.c');
  const more: Record<string, string> = helpers === undefined ? {} : { 'helpers.c': helpers };
  const facts = helpers === undefined ? undefined : factsOf(helpers, true);
  // a recording twin goes into helpers.c (recording-twin.ts): the file the facts name
  for (const twin of Object.values(facts?.twinHelpers ?? {})) if (twin) twin.file = 'helpers.c';
  if (facts) facts.guardedLogs = fileOf(guardedLogsOf(helpers!), 'helpers.c');
  // so is a fork wrapper's parent-side companion (wrapper-companion.ts)
  for (const defs of Object.values(facts?.forkFunctions ?? {})) for (const d of defs) d.file = 'helpers.c';

  test('sites, classes and the rewrite', async () => {
    const result = await transform(input, `${name}/input${ending}`, facts);
    if (UPDATE) {
      writeFixture(name, `output${ending}`, result.changed ? result.code : undefined);
      writeFixture(name, 'sites.json', `${JSON.stringify(result.sites.map(summary), null, 2)}\n`);
    }
    const expected = JSON.parse(readFixture(name, 'sites.json') ?? '[]') as ExpectedSite[];
    expect(result.sites.map(summary)).toEqual(expected);
    // helpers.output.c: helpers.c with the twins the conversion calls
    const twinned = result.companions?.length ? await addTwins(helpers!, result.companions) : undefined;
    if (UPDATE) writeFixture(name, 'helpers.output.c', twinned);
    expect(twinned).toBe(readFixture(name, 'helpers.output.c'));
    if (twinned) expect(await addTwins(twinned, result.companions!)).toBe(twinned); // each twin once
    const output = readFixture(name, `output${ending}`);
    if (output === undefined) {
      expect(result.changed).toBe(false);
      expect(result.code).toBe(input);
    } else {
      expect(result.code).toBe(output);
      // A second run changes nothing.
      const again = await transform(output, `${name}/output${ending}`, facts);
      expect(again.changed).toBe(false);
      expect(again.sites.some((s) => s.convertible)).toBe(false);
    }
  });

  const output = readFixture(name, `output${ending}`);
  if (output === undefined) return; // left unchanged: nothing to run side by side
  (existsSync(path.join(NATIVE, 'libforkexec.c')) ? test : test.skip)(
    'the conversion compiles and behaves like the original, on the fast path and on the slow path',
    () => {
      const dir = tempDir();
      try {
        // One binary name for both, so messages that name the program (err(), perror with argv[0]) compare.
        const before = compile(
          input,
          mkdirSync(path.join(dir, 'before'), { recursive: true })!,
          'program',
          more,
          ending,
        );
        const twinned = readFixture(name, 'helpers.output.c');
        const moreAfter = twinned === undefined ? more : { 'helpers.c': twinned };
        const after = compile(
          output!,
          mkdirSync(path.join(dir, 'after'), { recursive: true })!,
          'program',
          moreAfter,
          ending,
        );
        const work = path.join(dir, 'work');
        // The probe runs: the fast path. A program that is not there: exec fails, the original child code reports it.
        for (const program of [probePath(), path.join(dir, 'no-such-program')]) {
          const a = runIn(work, before, [program]);
          const b = runIn(work, after, [program]);
          expect(b).toEqual(a);
          if (program !== probePath()) continue;
          expect(a.status).toBe(0);
          expect(a.stdout).toMatch(/exit|parent saw/); // the program reported on its child
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
