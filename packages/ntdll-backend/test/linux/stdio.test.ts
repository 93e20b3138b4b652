// Stdio set-up on real fds: copies for sources the other slots would overwrite, nothing left open.
import { fstatSync, readdirSync } from 'node:fs';
import type { SpawnRequest } from '@forkexec/core';
import { loadLibc } from '../../src/linux/libc.js';
import { closeStdio, openStdio } from '../../src/linux/stdio.js';

const request = (stdio: SpawnRequest['stdio']): SpawnRequest => ({
  file: '/bin/true',
  argv: ['true'],
  env: {},
  actions: [],
  stdio,
  command: 'true',
});
const sameFile = (a: number, b: number) => {
  const [x, y] = [fstatSync(a), fstatSync(b)];
  return x.dev === y.dev && x.ino === y.ino;
};
const openFds = () => readdirSync('/proc/self/fd').length;

describe('openStdio', () => {
  it('swapped standard fds come from close-on-exec copies above 2, so no dup2 overwrites a source', () => {
    const libc = loadLibc();
    const before = openFds();
    const stdio = openStdio(request(['inherit', 2, 1]), libc);
    try {
      const [zero, one, two] = stdio.sources as { fd: number }[];
      expect(zero).toEqual({ fd: 0 });
      expect(one.fd).toBeGreaterThan(2);
      expect(two.fd).toBeGreaterThan(2);
      expect(sameFile(one.fd, 2) && sameFile(two.fd, 1)).toBe(true);
      for (const { fd } of [one, two]) expect(libc.getfd(fd) & 1).toBe(1); // FD_CLOEXEC
      expect(stdio.afterSpawn.sort()).toEqual([one.fd, two.fd].sort());
    } finally {
      closeStdio(stdio);
    }
    expect(openFds()).toBe(before);
  });

  it('pipes: parent ends by slot, child ends closed after the spawn, all close-on-exec', () => {
    const libc = loadLibc();
    const before = openFds();
    const stdio = openStdio(request(['pipe', 'ignore', 'pipe']), libc);
    try {
      expect(stdio.sources[1]).toBe('devnull');
      expect(stdio.parentEnds[1]).toBeNull();
      const ends = [stdio.parentEnds[0]!, stdio.parentEnds[2]!, ...stdio.afterSpawn];
      expect(ends).toHaveLength(4);
      for (const fd of ends) expect(libc.getfd(fd) & 1).toBe(1);
      expect(openFds()).toBe(before + 4);
    } finally {
      closeStdio(stdio);
    }
    expect(openFds()).toBe(before);
  });

  it('a numbered stdio fd that is not open is EBADF, and nothing stays open', () => {
    const before = openFds();
    expect(() => openStdio(request(['pipe', 'pipe', 987_654]), loadLibc())).toThrow(
      expect.objectContaining({ code: 'FORKEXEC_SPAWN', errno: 'EBADF' }),
    );
    expect(openFds()).toBe(before);
  });
});
