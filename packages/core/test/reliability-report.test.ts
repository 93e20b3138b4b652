// The reliability report: a scaled run (a quick pass, Windows under Wine) must never pass for a full one.
import { formatReport } from '@forkexec/core/testing';

const row = {
  backend: 'ntdll',
  spawns: 854,
  faults: 76,
  inputs: 161,
  cases: 25,
  passed: 14,
  failed: 0,
  skipped: 11,
  msPerSpawn: 156.1,
};

test('a full run prints the table alone', () => {
  const text = formatReport([row]);
  expect(text).toContain('| ntdll | 14/25 | 0 | 11 | 854 | 76 | 161 | 156.10 |');
  expect(text).not.toContain('scaled');
});

test('a scaled run says so under the table, with the counts of a full run', () => {
  const text = formatReport([
    { ...row, scale: 'sequential 500 (full run: 10000)' },
    { ...row, backend: 'node' },
  ]);
  expect(text.split('\n').slice(-2)).toEqual(['', '- ntdll: scaled run: sequential 500 (full run: 10000)']);
  expect(text).toContain('| **all** | 28/50 |');
});
