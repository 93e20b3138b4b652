/**
 * The action-sequence property on Windows: a child there has only its three standard handles, so
 * random dup2, close, open and chdir sequences aimed at them are compared with a reference model of
 * what each handle must be (the probe's `handle` command names a file by its path).
 */
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ActionOp } from '../actions.js';
import { loadFastCheck, type ReliabilityContext } from './reliability-context.js';
import { checkOnBackends, ModelTally, type ModelledSequence } from './reliability-model-run.js';

type Step =
  | { op: 'dup2'; source: number; to: number }
  | { op: 'close'; fd: number }
  | { op: 'open'; fd: number; file: number; flags: 'r' | 'r+' | 'a' | 'w' }
  | { op: 'chdir'; dir: number };

const OPS: readonly ActionOp[] = ['dup2', 'close', 'open', 'chdir'];
/** fd 1 carries the report; the steps aim at stdin and stderr. */
const TARGETS = [0, 2];

interface Model extends ModelledSequence {
  /** What stdin, stdout and stderr are: char (NUL), pipe, none, or a file's path; and the cwd. */
  state: string;
}

function materialize(steps: Step[], files: string[], dirs: string[], parentFd: number, cwd: string): Model {
  // stdin and stderr start as 'ignore' (NUL), stdout as the report's pipe; the parent fd points to files[0].
  const table = new Map<number, string>([
    [0, 'char'],
    [1, 'pipe'],
    [2, 'char'],
    [parentFd, files[0]],
  ]);
  const model: Model = { actions: [], state: '' };
  for (const step of steps) {
    const { actions } = model;
    if (step.op === 'dup2') {
      const sources = [0, 2, parentFd];
      const from = sources[step.source % sources.length];
      const to = TARGETS[step.to % TARGETS.length];
      actions.push({ op: 'dup2', from, to });
      const what = table.get(from);
      if (what === undefined) model.failure ??= { index: actions.length - 1, errno: 'EBADF' };
      else table.set(to, what);
    } else if (step.op === 'close') {
      const fd = TARGETS[step.fd % TARGETS.length];
      actions.push({ op: 'close', fd });
      table.delete(fd);
    } else if (step.op === 'open') {
      const fd = TARGETS[step.fd % TARGETS.length];
      const file = files[step.file % files.length];
      actions.push({ op: 'open', fd, path: file, flags: step.flags });
      table.set(fd, file);
    } else {
      cwd = dirs[step.dir % dirs.length];
      actions.push({ op: 'chdir', path: cwd });
    }
  }
  model.state = [0, 1, 2]
    .map((fd) => table.get(fd) ?? 'none')
    .concat(cwd)
    .join('\n')
    .toLowerCase();
  return model;
}

export function windowsModelCases(ctx: ReliabilityContext): void {
  const ops = OPS.filter((op) => ctx.supports(op));
  const peers = ctx.options.peers ?? [];
  const onEveryBackend = peers.length ? ', on every backend that has the ops' : '';

  ctx.test(
    `random sequences of ${ops.join(', ')} on the standard handles leave the child in the state the reference model ` +
      `predicts${onEveryBackend}`,
    async () => {
      const fc = await loadFastCheck();
      if (!fc) return void console.warn('fast-check is not installed: action-model property skipped');
      const dir = path.join(ctx.tmp(), 'model-win32');
      const files = ['f0', 'f1', 'f2'].map((f) => path.join(dir, f));
      const dirs = [path.join(dir, 'd0'), path.join(dir, 'd1'), ctx.tmp()];
      for (const d of dirs) mkdirSync(d, { recursive: true });
      for (const f of files) writeFileSync(f, f);
      const parentFd = openSync(files[0], 'r');
      const tally = new ModelTally();
      try {
        const nat = fc.nat({ max: 63 });
        const arbitraries = {
          dup2: fc.record({ op: fc.constant('dup2' as const), source: nat, to: nat }),
          close: fc.record({ op: fc.constant('close' as const), fd: nat }),
          open: fc.record({
            op: fc.constant('open' as const),
            fd: nat,
            file: nat,
            flags: fc.constantFrom('r' as const, 'r+' as const, 'a' as const, 'w' as const),
          }),
          chdir: fc.record({ op: fc.constant('chdir' as const), dir: nat }),
        };
        const step = fc.oneof(
          ...ops.map((op) => arbitraries[op as keyof typeof arbitraries] as import('fast-check').Arbitrary<Step>),
        );
        await fc.assert(
          fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
            const model = materialize(steps, files, dirs, parentFd, process.cwd());
            const args = ['handle', 'stdin', 'handle', 'stdout', 'handle', 'stderr', 'cwd'];
            await checkOnBackends(
              ctx,
              [ctx.backend(), ...peers],
              model,
              args,
              (stdout) => {
                return { got: stdout.toLowerCase(), want: model.state };
              },
              tally,
            );
          }),
          { numRuns: ctx.options.propertyRuns },
        );
      } finally {
        closeSync(parentFd);
      }
      // child_process refuses many sequences up front (it cannot close a standard handle): a fifth must still be checked.
      tally.assertEnough(ctx, ctx.options.propertyRuns, 1 / 5);
    },
    [],
    undefined,
    Math.max(120_000, ctx.options.propertyRuns * 1000 * (1 + peers.length)),
  );
}
