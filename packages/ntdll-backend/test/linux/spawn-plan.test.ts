import { constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Action, SpawnRequest } from '@forkexec/core';
import { planSpawn, readsParentFds, type FileOp, type StdioSource } from '../../src/linux/spawn-plan.js';

const request = (actions: Action[]): SpawnRequest => ({
  file: '/bin/true',
  argv: ['true'],
  env: {},
  actions,
  stdio: ['ignore', 'pipe', 'pipe'],
  command: 'true',
});
const STDIO: StdioSource[] = [{ fd: 0 }, { fd: 21 }, { fd: 23 }];
const noParentFds = () => {
  throw new Error('parent fds should not be listed for narrow gaps');
};
const strip = (ops: FileOp[]) => ops.map(({ actionIndex: _, ...op }) => op);

describe('planSpawn', () => {
  it('ignored slots share one open of /dev/null', () => {
    const plan = planSpawn(request([]), ['devnull', { fd: 21 }, 'devnull'], noParentFds);
    expect(plan.fileOps).toEqual([
      { op: 'open', fd: 0, path: '/dev/null', flags: fsConstants.O_RDWR, mode: 0 },
      { op: 'dup2', from: 21, to: 1 },
      { op: 'dup2', from: 0, to: 2 },
      { op: 'closefrom', fd: 3 },
    ]);
  });

  it('sets up stdio, then closes every fd above 2 when the actions keep none', () => {
    const plan = planSpawn(request([]), ['devnull', { fd: 21 }, 'closed'], noParentFds);
    expect(plan.fileOps).toEqual([
      { op: 'open', fd: 0, path: '/dev/null', flags: fsConstants.O_RDWR, mode: 0 },
      { op: 'dup2', from: 21, to: 1 },
      { op: 'close', fd: 2 },
      { op: 'closefrom', fd: 3 },
    ]);
    expect(plan).toMatchObject({ setsid: false, pgroup: undefined, sigmask: [] });
  });

  it('keeps the actions in order after stdio, each naming its index', () => {
    const actions: Action[] = [
      { op: 'chdir', path: '/tmp' },
      { op: 'open', fd: 1, path: '/tmp/x', flags: 'w', mode: 0o600 },
      { op: 'dup2', from: 1, to: 2 },
      { op: 'close', fd: 0 },
    ];
    const ops = planSpawn(request(actions), STDIO, noParentFds).fileOps;
    expect(ops.slice(3)).toEqual([
      { op: 'chdir', path: '/tmp', actionIndex: 0 },
      {
        op: 'open',
        fd: 1,
        path: '/tmp/x',
        flags: fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC,
        mode: 0o600,
        actionIndex: 1,
      },
      { op: 'dup2', from: 1, to: 2, actionIndex: 2 },
      { op: 'close', fd: 0, actionIndex: 3 },
      { op: 'closefrom', fd: 3 },
    ]);
  });

  it('closes the gaps below fds the actions keep, and everything above the highest', () => {
    const actions: Action[] = [
      { op: 'dup2', from: 1, to: 5 },
      { op: 'open', fd: 7, path: '/dev/null' },
      { op: 'dup2', from: 1, to: 9 },
      { op: 'close', fd: 9 },
    ];
    const tail = strip(planSpawn(request(actions), STDIO, noParentFds).fileOps.slice(3 + actions.length));
    expect(tail).toEqual([
      { op: 'close', fd: 3 },
      { op: 'close', fd: 4 },
      { op: 'close', fd: 6 },
      { op: 'closefrom', fd: 8 },
    ]);
  });

  it('a closefrom action drops the kept fds at and above it', () => {
    const actions: Action[] = [
      { op: 'dup2', from: 1, to: 4 },
      { op: 'dup2', from: 1, to: 12 },
      { op: 'closefrom', fd: 5 },
    ];
    const tail = strip(planSpawn(request(actions), STDIO, noParentFds).fileOps.slice(3 + actions.length));
    expect(tail).toEqual([
      { op: 'close', fd: 3 },
      { op: 'closefrom', fd: 5 },
    ]);
  });

  it('closes a wide gap by the parent fds open in it', () => {
    const actions: Action[] = [{ op: 'dup2', from: 1, to: 5000 }];
    const tail = strip(planSpawn(request(actions), STDIO, () => [0, 1, 2, 3, 17, 4999, 5000, 6000]).fileOps.slice(4));
    expect(tail).toEqual([
      { op: 'close', fd: 3 },
      { op: 'close', fd: 17 },
      { op: 'close', fd: 4999 },
      { op: 'closefrom', fd: 5001 },
    ]);
  });

  it('dup2 of an fd onto itself is kept (it clears close-on-exec in the child)', () => {
    const plan = planSpawn(request([{ op: 'dup2', from: 4, to: 4 }]), STDIO, noParentFds);
    expect(strip(plan.fileOps.slice(3))).toEqual([
      { op: 'dup2', from: 4, to: 4 },
      { op: 'close', fd: 3 },
      { op: 'closefrom', fd: 5 },
    ]);
  });

  it('opens listed before setsid get O_NOCTTY, since glibc runs setsid before the file actions', () => {
    const actions: Action[] = [
      { op: 'open', fd: 0, path: '/dev/tty' },
      { op: 'setsid' },
      { op: 'open', fd: 1, path: '/dev/tty', flags: 'r+' },
    ];
    const plan = planSpawn(request(actions), STDIO, noParentFds);
    const opens = plan.fileOps.filter((op) => op.op === 'open') as Extract<FileOp, { op: 'open' }>[];
    expect(opens.map((op) => op.flags)).toEqual([fsConstants.O_RDONLY | fsConstants.O_NOCTTY, fsConstants.O_RDWR]);
    expect(plan.setsid).toBe(true);
  });

  it('carries setpgid, and the last sigmask; sigdefault needs nothing more', () => {
    const plan = planSpawn(
      request([
        { op: 'sigmask', signals: ['SIGHUP'] },
        { op: 'setpgid', pgid: 4242 },
        { op: 'sigdefault', signals: 'all' },
        { op: 'sigmask', signals: ['SIGUSR1', 12] },
      ]),
      STDIO,
      noParentFds,
    );
    expect(plan.pgroup).toBe(4242);
    expect(plan.sigmask).toEqual([osConstants.signals.SIGUSR1, 12]);
    expect(plan.fileOps).toHaveLength(4);
  });

  it('refuses what a real child would fail with, naming the action', () => {
    const attempt = (actions: Action[]) => () => planSpawn(request(actions), STDIO, noParentFds);
    expect(attempt([{ op: 'setsid' }, { op: 'setsid' }])).toThrow(
      expect.objectContaining({ code: 'FORKEXEC_SPAWN', errno: 'EPERM', actionIndex: 1 }),
    );
    expect(attempt([{ op: 'setpgid', pgid: 0 }, { op: 'setsid' }])).toThrow(
      expect.objectContaining({ errno: 'EPERM', actionIndex: 1 }),
    );
    expect(attempt([{ op: 'setsid' }, { op: 'setpgid', pgid: 0 }])).toThrow(
      expect.objectContaining({ errno: 'EPERM', actionIndex: 1 }),
    );
    expect(attempt([{ op: 'chdir', path: '/' }, { op: 'setpgid', pgid: 77 }, { op: 'setsid' }])).toThrow(
      expect.objectContaining({ code: 'FORKEXEC_UNSUPPORTED_ACTION', actionIndex: 2 }),
    );
  });

  it('refuses an action posix_spawn cannot express instead of dropping it', () => {
    for (const action of [
      { op: 'umask', mask: 0o22 },
      { op: 'nice', inc: 1 },
      { op: 'setuid', uid: 0 },
    ] as Action[])
      expect(() => planSpawn(request([{ op: 'chdir', path: '/' }, action]), STDIO, noParentFds)).toThrow(
        expect.objectContaining({ code: 'FORKEXEC_UNSUPPORTED_ACTION', actionIndex: 1 }),
      );
  });
});

describe('readsParentFds (whether a spawn must run before the call returns)', () => {
  it.each<[string, Action[], boolean]>([
    ['no actions', [], false],
    ['dup2 between the standard fds', [{ op: 'dup2', from: 2, to: 1 }], false],
    [
      'dup2 from an fd an earlier open made',
      [
        { op: 'open', fd: 5, path: '/dev/null' },
        { op: 'dup2', from: 5, to: 1 },
      ],
      false,
    ],
    [
      'dup2 from an fd an earlier dup2 made',
      [
        { op: 'dup2', from: 1, to: 7 },
        { op: 'dup2', from: 7, to: 2 },
      ],
      false,
    ],
    ['dup2 from a parent fd', [{ op: 'dup2', from: 9, to: 1 }], true],
    ['dup2 of a parent fd onto itself', [{ op: 'dup2', from: 9, to: 9 }], true],
    [
      'dup2 from a parent fd whose number an earlier action closed in the child',
      [
        { op: 'open', fd: 9, path: '/dev/null' },
        { op: 'close', fd: 9 },
        { op: 'dup2', from: 9, to: 1 },
      ],
      true,
    ],
    [
      "dup2 from a parent fd after closefrom dropped the child's copy",
      [
        { op: 'dup2', from: 1, to: 8 },
        { op: 'closefrom', fd: 3 },
        { op: 'dup2', from: 8, to: 2 },
      ],
      true,
    ],
    [
      'close and closefrom of parent fds',
      [
        { op: 'close', fd: 9 },
        { op: 'closefrom', fd: 3 },
      ],
      false,
    ],
  ])('%s', (_, actions, expected) => {
    expect(readsParentFds(request(actions))).toBe(expected);
  });
});
