// The wire format on its own: what the helper decodes is checked end to end in the other tests.
import {
  encodeRequest,
  FRAME_SIZE,
  MalformedReplyError,
  PROTOCOL_VERSION,
  REPLY_MAGIC,
  REQUEST_MAGIC,
  ReplyReader,
} from '../../src/linux/wire.js';

const body = (env: Record<string, string>) =>
  encodeRequest({ file: '/bin/true', cwd: '/', argv: ['true'], env, actions: [] }, [], 0).body;

function frame(kind: number, a = 0, b = 0, magic = REPLY_MAGIC): Buffer {
  const f = Buffer.alloc(16);
  f.writeUInt32LE(magic, 0);
  f.writeUInt32LE(kind, 4);
  f.writeInt32LE(a, 8);
  f.writeInt32LE(b, 12);
  return f;
}

describe('wire protocol', () => {
  it('re-encodes the environment whenever it changes (the last one is cached)', () => {
    const base = { A: '1', B: '2' };
    const first = Buffer.from(body(base));
    expect(body({ A: '1', B: '2' })).toEqual(first);
    expect(body({ A: '1', B: '3' })).not.toEqual(first);
    expect(body({ B: '2', A: '1' })).not.toEqual(first);
    expect(body({ A: '1' })).not.toEqual(first);
    expect(body({ A: '1', B: '2', C: '' }).includes(Buffer.from('C=\0'))).toBe(true);
    expect(body(base)).toEqual(first);
  });

  it('encodes the flags, then strings as length, UTF-8 bytes and a NUL', () => {
    expect(encodeRequest({ file: '/x', cwd: '', argv: [], env: {}, actions: [] }, [], 0).body.readUInt32LE(0)).toBe(0);
    expect(
      encodeRequest({ file: 'x', searchPath: true, cwd: '', argv: [], env: {}, actions: [] }, [], 0).body.readUInt32LE(
        0,
      ),
    ).toBe(1); // search PATH
    const encoded = encodeRequest({ file: '/x', cwd: '', argv: ['ü'], env: {}, actions: [] }, [], 0).body.subarray(4);
    expect([...encoded.subarray(0, 7)]).toEqual([2, 0, 0, 0, 0x2f, 0x78, 0]);
    expect([...encoded.subarray(7, 12)]).toEqual([0, 0, 0, 0, 0]); // cwd ''
    expect(encoded.subarray(12, 16).readUInt32LE(0)).toBe(1); // argc
    expect([...encoded.subarray(16, 23)]).toEqual([2, 0, 0, 0, 0xc3, 0xbc, 0]);
  });

  it('writes ASCII strings inline and anything else as UTF-8, byte for byte the same', () => {
    const strings = ['', 'a', 'x'.repeat(256), 'y'.repeat(257), `${'z'.repeat(200)}ü`, 'ü', '\u{1f600}', '\x7f\x80'];
    for (const value of strings) {
      const encoded = encodeRequest({ file: value, cwd: '', argv: [], env: {}, actions: [] }, [], 0).body.subarray(4); // after the flags
      const bytes = Buffer.from(value, 'utf8');
      expect(encoded.readUInt32LE(0)).toBe(bytes.length);
      expect(encoded.subarray(4, 4 + bytes.length)).toEqual(bytes);
      expect(encoded[4 + bytes.length]).toBe(0);
      expect(encoded.readUInt32LE(5 + bytes.length)).toBe(0); // then cwd '' (the next string starts right after the NUL)
    }
  });

  it('frames the body: magic, version, body length and fd count, in one buffer', () => {
    const { header, body } = encodeRequest(
      { file: '/x', cwd: '/', argv: ['x'], env: { A: 'b' }, actions: [] },
      [{ target: 0, source: 0 }],
      1,
    );
    expect(header.length).toBe(FRAME_SIZE);
    expect([header.readUInt32LE(0), header.readUInt32LE(4), header.readUInt32LE(8), header.readUInt32LE(12)]).toEqual([
      REQUEST_MAGIC,
      PROTOCOL_VERSION,
      body.length,
      1,
    ]);
  });

  it('encodes an infinite rlimit as all ones', () => {
    const encoded = encodeRequest(
      {
        file: '/x',
        cwd: '',
        argv: [],
        env: {},
        actions: [{ op: 'setrlimit', resource: 'core', soft: 5, hard: Infinity }],
      },
      [],
      0,
    ).body;
    expect([...encoded.subarray(-20)]).toEqual([0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, ...Array(8).fill(0xff)]);
  });

  it('reads frames split across chunks, and refuses anything else', () => {
    const reader = new ReplyReader();
    const stream = Buffer.concat([frame(1, 1, 42), frame(2), frame(3, 2, -1)]);
    const replies = [
      ...reader.push(stream.subarray(0, 10)),
      ...reader.push(stream.subarray(10, 33)),
      ...reader.push(stream.subarray(33)),
    ];
    expect(replies).toEqual([
      { kind: 'hello', version: 1, pid: 42 },
      { kind: 'exec' },
      { kind: 'fail', errno: 2, index: -1 },
    ]);
    expect(reader.leftover).toBe(0);
    reader.push(Buffer.alloc(5));
    expect(reader.leftover).toBe(5);
    expect(() => new ReplyReader().push(frame(1, 1, 1, 0x12345678))).toThrow(MalformedReplyError);
    expect(() => new ReplyReader().push(frame(9))).toThrow(/unknown frame kind 9/);
  });
});
