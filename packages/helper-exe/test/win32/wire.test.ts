// The Windows helper's wire format, checked on any platform (the helper itself runs under Wine:
// scripts/test-wine.sh); the field offsets are those native/win32/fxhelper-win.c reads.
import { createWin32HelperBackend } from '../../src/win32/index.js';
import { encodeBody, encodeHeader, parseReply, REPLY_SIZE, WIN32_PROTOCOL_VERSION } from '../../src/win32/wire.js';

const reply = (fields: [number, number, number, number]) => {
  const bytes = Buffer.alloc(REPLY_SIZE);
  fields.forEach((v, i) => bytes.writeUInt32LE(v >>> 0, 4 * i));
  return bytes;
};
const REPLY_MAGIC = 0x50575846;

describe('Windows helper wire format', () => {
  it('the request: a 56-byte header with lengths, handles and the job, then UTF-16 strings and the environment block', () => {
    const environment = Buffer.from('A=1\0\0', 'utf16le');
    const { body, lengths } = encodeBody({ image: 'C:\\ü.exe', commandLine: 'ü "a b"', cwd: 'C:\\', environment });
    expect(lengths).toEqual([8, 7, 3, environment.length]);
    expect(body.toString('utf16le')).toBe('C:\\ü.exeü "a b"C:\\A=1\0\0');
    const header = encodeHeader(lengths, [0x1234n, 0n, 0xffff_ffff_0000n], 0x88n);
    expect(header.length).toBe(56);
    expect(header.toString('latin1', 0, 4)).toBe('FXWQ');
    expect(header.readUInt32LE(4)).toBe(WIN32_PROTOCOL_VERSION);
    expect([8, 12, 16, 20].map((at) => header.readUInt32LE(at))).toEqual(lengths);
    expect([24, 32, 40, 48].map((at) => header.readBigUInt64LE(at))).toEqual([0x1234n, 0n, 0xffff_ffff_0000n, 0x88n]);
  });

  it('replies: started with the program pid, failed with the Win32 error, refused, none', () => {
    expect(parseReply(reply([REPLY_MAGIC, WIN32_PROTOCOL_VERSION, 0, 4321]))).toEqual({ kind: 'started', pid: 4321 });
    expect(parseReply(reply([REPLY_MAGIC, WIN32_PROTOCOL_VERSION, 2, 0]))).toEqual({ kind: 'failed', error: 2 });
    expect(parseReply(reply([REPLY_MAGIC, WIN32_PROTOCOL_VERSION, 0xffffffff, 0]))).toEqual({ kind: 'refused' });
    expect(parseReply(Buffer.alloc(0))).toEqual({ kind: 'none' });
  });

  it('malformed replies say what is wrong', () => {
    expect(parseReply(Buffer.alloc(7))).toEqual({ kind: 'malformed', why: '7 bytes instead of a 16-byte reply' });
    expect(parseReply(Buffer.alloc(17))).toMatchObject({ kind: 'malformed' });
    expect(parseReply(reply([0xdeadbeef, WIN32_PROTOCOL_VERSION, 0, 1]))).toEqual({
      kind: 'malformed',
      why: 'bad magic 0xdeadbeef',
    });
    expect(parseReply(reply([REPLY_MAGIC, 9, 0, 1]))).toMatchObject({
      kind: 'malformed',
      why: expect.stringMatching(/protocol version 9.*rebuild/),
    });
  });
});

describe('Windows helper backend off Windows', () => {
  it('declares win32 and pidBeforeExec; its probe says where it runs', () => {
    const backend = createWin32HelperBackend({ min: 1, max: 2, idleTimeoutMs: 100 });
    expect(backend.capabilities).toMatchObject({ platforms: ['win32'], pidBeforeExec: true });
    if (process.platform !== 'win32')
      expect(backend.probe()).toEqual({
        ok: false,
        reason: `the Windows helper runs on win32, not ${process.platform}`,
      });
  });
});
