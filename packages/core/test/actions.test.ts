import { validateActions, openFlagsNumber, allSignalNumbers } from '@forkexec/core';
import { constants } from 'node:fs';

const invalid = (actions: unknown, index: number, message: RegExp) =>
  expect(() => validateActions(actions)).toThrow(
    expect.objectContaining({
      code: 'FORKEXEC_INVALID_ACTION',
      actionIndex: index,
      message: expect.stringMatching(message),
    }),
  );

describe('validateActions', () => {
  test('accepts every op and normalizes defaults', () => {
    const actions = validateActions([
      { op: 'open', fd: 5, path: '/dev/null' },
      { op: 'dup2', from: 5, to: 1 },
      { op: 'close', fd: 5 },
      { op: 'chdir', path: '/' },
      { op: 'setsid' },
      { op: 'setpgid' },
      { op: 'umask', mask: 0o22 },
      { op: 'sigdefault', signals: 'all' },
      { op: 'sigignore', signals: ['SIGHUP', 15] },
      { op: 'sigmask', signals: [] },
      { op: 'closefrom', fd: 3 },
      { op: 'setgroups', groups: [1, 2] },
      { op: 'setgid', gid: 1 },
      { op: 'setuid', uid: 1 },
      { op: 'setrlimit', resource: 'nofile', soft: 10, hard: Infinity },
      { op: 'nice', inc: 3 },
    ]);
    expect(actions).toHaveLength(16);
    expect(actions[5]).toEqual({ op: 'setpgid', pgid: 0 });
  });

  test('refuses actions that are not an array, guessing the array meant', () => {
    const refused = (actions: unknown, message: RegExp) =>
      expect(() => validateActions(actions)).toThrow(
        expect.objectContaining({ code: 'FORKEXEC_INVALID_ARGUMENT', message: expect.stringMatching(message) }),
      );
    refused('nope', /^option `actions` must be an array of actions, got "nope"$/);
    refused('setsid', /got "setsid" \(did you mean \[\{"op":"setsid"\}\]\?\)/);
    refused({ op: 'close', fd: 3 }, /did you mean \[\{"op":"close","fd":3\}\]\?/);
  });

  test('names the index and the problem', () => {
    invalid([{ op: 'setsid' }, { op: 'dup2', from: 1.5, to: 1 }], 1, /from must be a file descriptor/);
    invalid([{ op: 'close', fd: -1 }], 0, /fd must be a file descriptor/);
    invalid([{ op: 'chdir', path: 'rel/dir' }], 0, /absolute/);
    invalid([{ op: 'open', fd: 1, path: '/tmp/a\0b' }], 0, /NUL/);
    invalid([{ op: 'open', fd: 1, path: '/tmp/x', flags: 'rw' }], 0, /flags/);
    invalid([{ op: 'sigdefault', signals: ['SIGNOPE'] }], 0, /unknown signal/);
    invalid([{ op: 'setrlimit', resource: 'nofile', soft: 10, hard: 5 }], 0, /exceeds hard/);
    invalid([{ op: 'setrlimit', resource: 'bogus', soft: 1, hard: 1 }], 0, /resource must be one of/);
    invalid([{ op: 'execve' }], 0, /unknown op "execve"; known ops: dup2/);
    invalid([null], 0, /expected an action object/);
    invalid(
      [{ op: 'setsid' }, { op: 'setpgid', pgid: undefined }],
      1,
      /pgid is undefined: omit it .* once `started` resolves/,
    );
  });

  test('a dup2 source must be open in the parent or made by an earlier action', () => {
    invalid([{ op: 'dup2', from: 999_999, to: 1 }], 0, /not open in the parent/);
    expect(() =>
      validateActions([
        { op: 'open', fd: 999_999, path: '/dev/null' },
        { op: 'dup2', from: 999_999, to: 1 },
      ]),
    ).not.toThrow();
    invalid(
      [
        { op: 'open', fd: 999_999, path: '/dev/null' },
        { op: 'close', fd: 999_999 },
        { op: 'dup2', from: 999_999, to: 1 },
      ],
      2,
      /not open/,
    );
  });

  test("the child's standard fds come from stdio: usable as dup2 sources until an action closes them", () => {
    expect(() =>
      validateActions([
        { op: 'dup2', from: 1, to: 2 },
        { op: 'dup2', from: 0, to: 7 },
      ]),
    ).not.toThrow();
    invalid(
      [
        { op: 'close', fd: 1 },
        { op: 'dup2', from: 1, to: 2 },
      ],
      1,
      /actions\[0\] closed it/,
    );
    invalid(
      [
        { op: 'closefrom', fd: 0 },
        { op: 'dup2', from: 2, to: 1 },
      ],
      1,
      /actions\[0\] closed it/,
    );
  });

  test('open flags map to O_* numbers', () => {
    expect(openFlagsNumber(undefined)).toBe(constants.O_RDONLY);
    expect(openFlagsNumber('a')).toBe(constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND);
    expect(openFlagsNumber(constants.O_RDWR)).toBe(constants.O_RDWR);
    expect(allSignalNumbers()).not.toContain(9);
  });
});
