/**
 * Random valid action sequences, run on real children and compared with a reference model of
 * what POSIX says the child must see: its fds and what they point to, cwd, umask, group and session.
 */
import { closeSync, mkdirSync, openSync, readdirSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import type { ActionOp } from '../actions.js';
import { linuxOnly, loadFastCheck, notOnWindows, type ReliabilityContext } from './reliability-context.js';
import { checkOnBackends, ModelTally, type ModelledSequence } from './reliability-model-run.js';
import { inheritableFds, ownIds } from './proc.js';

/** One random step, with indexes that `materialize` maps onto what exists at that point. */
export type Step =
  | { op: 'dup2'; source: number; to: number }
  | { op: 'close'; fd: number }
  | { op: 'open'; fd: number; target: number; flags: 'r' | 'r+' | 'a' | 'w' }
  | { op: 'chdir'; dir: number }
  | { op: 'setsid' }
  | { op: 'setpgid' }
  | { op: 'umask'; mask: number }
  | { op: 'closefrom'; fd: number }
  | { op: 'sigmask' | 'sigignore' | 'sigdefault'; signals: number[] }
  | { op: 'sigdefault-all' };

const MODEL_OPS: readonly ActionOp[] = [
  'dup2',
  'close',
  'open',
  'chdir',
  'setsid',
  'setpgid',
  'umask',
  'closefrom',
  'sigmask',
  'sigignore',
  'sigdefault',
];

/** Signals the steps pick from: catchable, without a core dump, and harmless to ignore or block in the probe. */
const MODEL_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGWINCH'] as const;

/** The files, directories and fd numbers the steps pick from. */
interface World {
  files: string[];
  dirs: string[];
  /** Parent fds (close-on-exec) and the file each one points to. */
  parentFds: Map<number, string>;
  /** fd numbers the steps may write to: 0, 2, free numbers and a parent fd's number. fd 1 carries the report. */
  targets: number[];
  cwd: string;
  umask: number;
}

/** What the child must see, or the action that must fail. */
interface Expectation extends ModelledSequence {
  fds: Map<number, string>;
  cwd: string;
  umask: number;
  session: 'inherited' | 'setsid' | 'setpgid';
  /** Signal numbers blocked, and ignored, when the program starts (every other disposition is the default). */
  blocked: Set<number>;
  ignored: Set<number>;
}

/** Turns steps into actions, and replays them on the model of the child's fd table. */
export function materialize(steps: Step[], world: World): Expectation {
  // fd → what it points to, and whether exec will close it.
  const table = new Map<number, { what: string; cloexec: boolean }>([
    [0, { what: '/dev/null', cloexec: false }],
    [1, { what: 'channel', cloexec: false }],
    [2, { what: '/dev/null', cloexec: false }],
    ...[...world.parentFds].map(([fd, what]) => [fd, { what, cloexec: true }] as const),
  ]);
  const closed = new Set<number>();
  const expectation: Expectation = {
    actions: [],
    fds: new Map(),
    cwd: world.cwd,
    umask: world.umask,
    session: 'inherited',
    blocked: new Set(),
    ignored: new Set(),
  };
  const signals = (indexes: number[]) => [...new Set(indexes.map((i) => MODEL_SIGNALS[i % MODEL_SIGNALS.length]))];
  const fail = (errno: string) => (expectation.failure ??= { index: expectation.actions.length - 1, errno });
  for (const step of steps) {
    const { actions } = expectation;
    switch (step.op) {
      case 'dup2': {
        // Sources: what is open now (but fd 1: the node backend cannot share a pipe), and now and then an fd closed earlier.
        const open = [...table.keys()].filter((fd) => fd !== 1).sort((a, b) => a - b);
        const pool = [...open, ...closed];
        const from = pool[step.source % pool.length];
        const to = world.targets[step.to % world.targets.length];
        actions.push({ op: 'dup2', from, to });
        const source = table.get(from);
        if (!source) fail('EBADF');
        else {
          table.set(to, { what: source.what, cloexec: false });
          closed.delete(to);
        }
        break;
      }
      case 'close': {
        const choices = [...world.targets.filter((t) => t > 2), ...world.parentFds.keys()];
        const fd = choices[step.fd % choices.length];
        actions.push({ op: 'close', fd });
        if (table.delete(fd)) closed.add(fd);
        break;
      }
      case 'open': {
        const fd = world.targets[step.fd % world.targets.length];
        const paths = step.flags === 'r' ? [...world.files, ...world.dirs] : world.files;
        const file = paths[step.target % paths.length];
        actions.push({ op: 'open', fd, path: file, flags: step.flags });
        table.set(fd, { what: file, cloexec: false });
        closed.delete(fd);
        break;
      }
      case 'chdir':
        expectation.cwd = world.dirs[step.dir % world.dirs.length];
        actions.push({ op: 'chdir', path: expectation.cwd });
        break;
      case 'setsid':
      case 'setpgid':
        // One per sequence: a second one fails with EPERM in the child, which posix_spawn cannot express.
        if (expectation.session !== 'inherited') continue;
        expectation.session = step.op;
        actions.push(step.op === 'setsid' ? { op: 'setsid' } : { op: 'setpgid', pgid: 0 });
        break;
      case 'umask':
        expectation.umask = step.mask;
        actions.push({ op: 'umask', mask: step.mask });
        break;
      case 'sigmask': {
        const names = signals(step.signals);
        expectation.blocked = new Set(names.map((n) => osConstants.signals[n]));
        actions.push({ op: 'sigmask', signals: names });
        break;
      }
      case 'sigignore':
      case 'sigdefault': {
        const names = signals(step.signals);
        if (names.length === 0) continue;
        for (const n of names) expectation.ignored[step.op === 'sigignore' ? 'add' : 'delete'](osConstants.signals[n]);
        actions.push({ op: step.op, signals: names });
        break;
      }
      case 'sigdefault-all':
        expectation.ignored.clear();
        actions.push({ op: 'sigdefault', signals: 'all' });
        break;
      case 'closefrom': {
        const choices = [3, ...world.targets.filter((t) => t > 3)];
        const fd = choices[step.fd % choices.length];
        actions.push({ op: 'closefrom', fd });
        for (const open of [...table.keys()]) if (open >= fd && table.delete(open)) closed.add(open);
        break;
      }
    }
  }
  for (const [fd, { what, cloexec }] of table) if (!cloexec) expectation.fds.set(fd, what);
  return expectation;
}

/** The fd numbers the report covers, and the probe commands that print the child's state. */
function reportCommands(world: World): { queried: number[]; args: string[] } {
  const queried = [...new Set([0, 2, ...world.targets, ...world.parentFds.keys()])].sort((a, b) => a - b);
  return { queried, args: ['fds', ...queried.flatMap((fd) => ['fdpath', String(fd)]), 'cwd', 'umask', 'ids', 'sigs'] };
}

/** The child's state as the model describes it, from the probe's report. */
function observed(stdout: string, queried: number[], tolerated: Set<number>): string {
  const lines = stdout.split('\n');
  const fds = lines[0].split(' ').filter((fd) => fd !== '' && !tolerated.has(Number(fd)));
  const paths = queried.map((fd, i) => `${fd}:${lines[1 + i].replace(/^(pipe|socket):\[\d+\]$/, 'channel')}`);
  const [cwd, umask, ids, sigs] = lines.slice(1 + queried.length);
  const f = Object.fromEntries(ids.split(' ').map((kv) => kv.split('=')));
  const own = ownIds();
  const session =
    f.sid === f.pid && f.pgid === f.pid
      ? 'setsid'
      : f.pgid === f.pid && Number(f.sid) === own.sid
        ? 'setpgid'
        : Number(f.pgid) === own.pgid && Number(f.sid) === own.sid
          ? 'inherited'
          : `odd ${ids}`;
  return [
    `fds ${fds.join(' ')}`,
    ...paths,
    `cwd ${cwd}`,
    `umask ${umask}`,
    `session ${session}`,
    `signals ${sigs}`,
  ].join('\n');
}

function expected(e: Expectation, queried: number[]): string {
  const fds = [...e.fds.keys()].sort((a, b) => a - b);
  const paths = queried.map((fd) => `${fd}:${e.fds.get(fd) ?? '<closed>'}`);
  const list = (set: Set<number>) => [...set].sort((a, b) => a - b).join(',');
  const signals = `blocked=${list(e.blocked)} ignored=${list(e.ignored)}`;
  return [
    `fds ${fds.join(' ')}`,
    ...paths,
    `cwd ${e.cwd}`,
    `umask ${e.umask.toString(8).padStart(3, '0')}`,
    `session ${e.session}`,
    `signals ${signals}`,
  ].join('\n');
}

function usedFds(): Set<number> {
  return new Set(readdirSync('/proc/self/fd').map(Number));
}

export function modelCases(ctx: ReliabilityContext): void {
  const ops = MODEL_OPS.filter((op) => ctx.supports(op));
  const onEveryBackend = ctx.options.peers?.length ? ', on every backend that has the ops' : '';

  ctx.test(
    `random sequences of ${ops.join(', ')} leave the child in the state the reference model predicts${onEveryBackend}`,
    async () => {
      const fc = await loadFastCheck();
      if (!fc) return void console.warn('fast-check is not installed: action-model property skipped');
      const dir = path.join(ctx.tmp(), 'model');
      const files = ['f0', 'f1', 'f2'].map((f) => path.join(dir, f));
      const dirs = [path.join(dir, 'd0'), path.join(dir, 'd1'), '/'];
      for (const d of dirs) mkdirSync(d, { recursive: true });
      for (const f of files) writeFileSync(f, f);
      const parentFds = new Map(files.slice(0, 2).map((f) => [openSync(f, 'r'), f] as const));
      try {
        const used = usedFds();
        const free = Array.from({ length: 64 }, (_, i) => i + 3)
          .filter((fd) => !used.has(fd))
          .slice(0, 6);
        const umask = process.umask();
        const world: World = {
          files,
          dirs,
          parentFds,
          targets: [0, 2, ...free, [...parentFds.keys()][0]],
          cwd: process.cwd(),
          umask,
        };
        const { queried, args } = reportCommands(world);
        const runs = ctx.options.propertyRuns;
        const tally = new ModelTally();
        const backends = [ctx.backend(), ...(ctx.options.peers ?? [])];
        const nat = fc.nat({ max: 63 });
        const step = fc.oneof(
          ...(
            [
              ['dup2', fc.record({ op: fc.constant('dup2' as const), source: nat, to: nat })],
              ['close', fc.record({ op: fc.constant('close' as const), fd: nat })],
              [
                'open',
                fc.record({
                  op: fc.constant('open' as const),
                  fd: nat,
                  target: nat,
                  flags: fc.constantFrom('r' as const, 'r+' as const, 'a' as const, 'w' as const),
                }),
              ],
              ['chdir', fc.record({ op: fc.constant('chdir' as const), dir: nat })],
              ['setsid', fc.constant({ op: 'setsid' as const })],
              ['setpgid', fc.constant({ op: 'setpgid' as const })],
              ['umask', fc.record({ op: fc.constant('umask' as const), mask: fc.integer({ min: 0, max: 0o777 }) })],
              ['closefrom', fc.record({ op: fc.constant('closefrom' as const), fd: nat })],
              ['sigmask', fc.record({ op: fc.constant('sigmask' as const), signals: fc.array(nat, { maxLength: 3 }) })],
              [
                'sigignore',
                fc.record({
                  op: fc.constant('sigignore' as const),
                  signals: fc.array(nat, { minLength: 1, maxLength: 3 }),
                }),
              ],
              [
                'sigdefault',
                fc.record({
                  op: fc.constant('sigdefault' as const),
                  signals: fc.array(nat, { minLength: 1, maxLength: 3 }),
                }),
              ],
              ['sigdefault', fc.constant({ op: 'sigdefault-all' as const })],
            ] as const
          )
            .filter(([op]) => ops.includes(op))
            .map(([, arb]) => arb as import('fast-check').Arbitrary<Step>),
        );
        await fc.assert(
          fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
            const model = materialize(steps, world);
            const want = expected(model, queried);
            await checkOnBackends(
              ctx,
              backends,
              model,
              args,
              (stdout, backend) => {
                const tolerated = new Set(backend.capabilities.actions.includes('closefrom') ? [] : inheritableFds());
                return { got: observed(stdout, queried, tolerated), want };
              },
              tally,
            );
          }),
          { numRuns: runs },
        );
        tally.assertEnough(ctx, runs, 1 / 4);
      } finally {
        for (const fd of parentFds.keys()) closeSync(fd);
      }
    },
    [],
    () => notOnWindows('POSIX child state (fds above 2, umask, sessions, signals) read from /proc')() ?? linuxOnly(),
    Math.max(120_000, ctx.options.propertyRuns * 1000 * (1 + (ctx.options.peers?.length ?? 0))),
  );
}
