// sendWithFds on its own, read back with recvmsg: the bytes of every chunk in order, and the fds
// attached to the first byte (fds that name the same open files as the ones sent).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fdPassing } from '../../src/linux/fd-passing.js';

interface Koffi {
  load(path: string): { func(prototype: string): (...args: unknown[]) => unknown };
  address(value: ArrayBufferView): bigint;
}

const koffi = createRequire(__filename)('koffi') as Koffi;
const recvmsg = koffi.load('libc.so.6').func('intptr_t recvmsg(int fd, void *msg, int flags)');

/** One recvmsg: the bytes that came (up to `room`) and the fds attached to them. */
function receive(socket: number, room: number): { bytes: Buffer; fds: number[] } {
  const data = Buffer.from(new ArrayBuffer(room));
  const iov = new BigUint64Array(new ArrayBuffer(16));
  iov[0] = koffi.address(data);
  iov[1] = BigInt(room);
  const control = Buffer.from(new ArrayBuffer(16 + 4 * 253 + 4));
  const msg = new BigUint64Array(new ArrayBuffer(56));
  msg[2] = koffi.address(iov);
  msg[3] = 1n;
  msg[4] = koffi.address(control);
  msg[5] = BigInt(control.length);
  const got = Number(recvmsg(socket, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */));
  if (got < 0) throw new Error('recvmsg failed');
  const fds: number[] = [];
  if (msg[5] > 0n) {
    expect([control.readInt32LE(8), control.readInt32LE(12)]).toEqual([1, 1]); // SOL_SOCKET, SCM_RIGHTS
    const length = Number(control.readBigUInt64LE(0));
    for (let at = 16; at < length; at += 4) fds.push(control.readInt32LE(at));
  }
  return { bytes: data.subarray(0, got), fds };
}

const sameFile = (a: number, b: number) => {
  const [x, y] = [fstatSync(a), fstatSync(b)];
  return x.dev === y.dev && x.ino === y.ino;
};

describe('sendWithFds', () => {
  const native = fdPassing();
  let pair: [number, number];
  const opened: number[] = [];
  beforeEach(() => (pair = native.socketpair()));
  afterEach(() => {
    for (const fd of [...pair, ...opened.splice(0)]) closeSync(fd);
  });

  it.each([
    ['a small message (staged)', 2000],
    ['a message larger than the staging buffer (chunks sent in place)', 100 * 1024],
  ])('sends %s with its fds', (_, size) => {
    const chunks = [Buffer.from('head'), Buffer.alloc(size, 'x'), Buffer.alloc(0), Buffer.from('tail')];
    const fds = [openSync('/dev/null', 'r'), openSync(__filename, 'r'), 0];
    opened.push(fds[0], fds[1]);
    const sent = native.sendWithFds(pair[0], chunks, fds);
    const first = receive(pair[1], sent);
    opened.push(...first.fds);
    expect(first.fds).toHaveLength(3);
    first.fds.forEach((fd, i) => expect(sameFile(fd, fds[i])).toBe(true));
    const rest = Buffer.alloc(sent - first.bytes.length);
    for (let at = 0; at < rest.length;) at += readSync(pair[1], rest, at, rest.length - at, null);
    expect(Buffer.concat([first.bytes, rest])).toEqual(Buffer.concat(chunks).subarray(0, sent));
    expect(sent).toBeGreaterThan(size / 2); // a fresh socket takes most of it at once
  });

  it('sends without fds, and a later send with fds does not carry stale ones', () => {
    const fd = openSync('/dev/null', 'r');
    opened.push(fd);
    expect(native.sendWithFds(pair[0], [Buffer.from('one')], [fd])).toBe(3);
    const withFd = receive(pair[1], 3);
    opened.push(...withFd.fds);
    expect(withFd.fds).toHaveLength(1);
    expect(native.sendWithFds(pair[0], [Buffer.from('two')], [])).toBe(3);
    expect(receive(pair[1], 3)).toEqual({ bytes: Buffer.from('two'), fds: [] });
  });

  it('says EPIPE once the peer is gone, and refuses more fds than the kernel takes', () => {
    expect(() => native.sendWithFds(pair[0], [Buffer.from('x')], new Array(254).fill(0))).toThrow(/ETOOMANYREFS/);
    closeSync(pair[1]);
    pair[1] = openSync('/dev/null', 'r'); // closed by afterEach
    expect(() => native.sendWithFds(pair[0], [Buffer.from('x')], [])).toThrow(/sendmsg failed: EPIPE/);
  });
});

describe('receiveNow', () => {
  const native = fdPassing();

  it('never waits: -1 while nothing is there, what came (up to the buffer), 0 at EOF', () => {
    const [ours, theirs] = native.socketpair(); // both blocking: a read that waited would hang the test
    try {
      const into = Buffer.alloc(8);
      expect(native.receiveNow(ours, into)).toBe(-1);
      native.sendWithFds(theirs, [Buffer.from('0123456789')], []);
      expect(native.receiveNow(ours, into)).toBe(8);
      expect(into.toString()).toBe('01234567');
      expect(native.receiveNow(ours, into)).toBe(2);
      expect(native.receiveNow(ours, into)).toBe(-1);
      closeSync(theirs);
      expect(native.receiveNow(ours, into)).toBe(0);
    } finally {
      closeSync(ours);
    }
  });

  it('says -1 for a peer that closed with our bytes unread (ECONNRESET), after what it sent', () => {
    const [ours, theirs] = native.socketpair();
    try {
      native.sendWithFds(ours, [Buffer.from('unread')], []);
      native.sendWithFds(theirs, [Buffer.from('hi')], []);
      closeSync(theirs);
      const into = Buffer.alloc(8);
      expect(native.receiveNow(ours, into)).toBe(2);
      expect(native.receiveNow(ours, into)).toBe(-1);
    } finally {
      closeSync(ours);
    }
  });

  it('throws FdPassingError for an fd that is no socket', () => {
    expect(() => native.receiveNow(-1, Buffer.alloc(1))).toThrow(/recv failed: EBADF/);
  });
});
