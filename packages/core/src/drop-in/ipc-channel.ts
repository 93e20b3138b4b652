/**
 * The parent's side of Node's IPC channel over a socket, speaking Node's own protocol (lib/internal/
 * child_process.js setupChannel and child_process/serialization.js): newline-delimited JSON, or
 * V8-serialized values each after a big-endian uint32 length ('advanced'). Node's setupChannel is
 * internal, so its behaviour is repeated here: `send`, `'message'` (held until a listener exists),
 * `disconnect`, `connected`, `channel.ref()/unref()`. Handles cannot travel over this socket.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { types } from 'node:util';
import v8 from 'node:v8';
import { ForkExecError } from '../errors.js';
import { countRefused } from './report.js';

export type Serialization = 'json' | 'advanced';

interface Codec {
  /** A message is partly read. */
  buffering: boolean;
  parse(data: Buffer): unknown[];
  encode(message: unknown): Buffer | string;
}

function jsonCodec(): Codec {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  return {
    buffering: false,
    parse(data) {
      const lines = decoder.write(data).split('\n');
      const incomplete = lines.pop()!;
      if (lines.length > 0) lines[0] = rest + lines[0];
      rest = lines.length > 0 ? incomplete : rest + incomplete;
      this.buffering = rest.length !== 0;
      return lines.map((line) => JSON.parse(line) as unknown);
    },
    encode: (message) => `${JSON.stringify(message)}\n`,
  };
}

// Node's ChildProcessSerializer: an object V8 cannot clone natively goes as its own enumerable properties.
const ARRAY_BUFFER_VIEW = 0;
const NOT_ARRAY_BUFFER_VIEW = 1;
// The host object hooks exist at run time; @types/node leaves them out.
const HostSerializer = v8.DefaultSerializer as unknown as new () => v8.Serializer & {
  _writeHostObject(object: object): void;
};
const HostDeserializer = v8.DefaultDeserializer as unknown as new (buffer: Buffer) => v8.Deserializer & {
  _readHostObject(): unknown;
};
class Serializer extends HostSerializer {
  _writeHostObject(object: object): void {
    if (types.isArrayBufferView(object)) {
      this.writeUint32(ARRAY_BUFFER_VIEW);
      return super._writeHostObject(object);
    }
    this.writeUint32(NOT_ARRAY_BUFFER_VIEW);
    this.writeValue({ ...object });
  }
}
class Deserializer extends HostDeserializer {
  _readHostObject(): unknown {
    return this.readUint32() === ARRAY_BUFFER_VIEW ? super._readHostObject() : this.readValue();
  }
}

function advancedCodec(): Codec {
  let pending: Buffer = Buffer.alloc(0);
  return {
    buffering: false,
    parse(data) {
      pending = pending.length ? Buffer.concat([pending, data]) : data;
      const messages: unknown[] = [];
      while (pending.length >= 4) {
        const end = pending.readUInt32BE(0) + 4;
        if (pending.length < end) break;
        const deserializer = new Deserializer(pending.subarray(4, end));
        pending = pending.subarray(end);
        deserializer.readHeader();
        messages.push(deserializer.readValue());
      }
      this.buffering = pending.length > 0;
      return messages;
    },
    encode(message) {
      const serializer = new Serializer();
      serializer.writeRawBytes(Buffer.alloc(4));
      serializer.writeHeader();
      serializer.writeValue(message);
      const buffer = serializer.releaseBuffer();
      buffer.writeUInt32BE(buffer.length - 4, 0);
      return buffer;
    },
  };
}

/**
 * Node's `subprocess.channel` (its Control): ref/unref of the channel, the reference count libraries
 * such as execa use while they wait for a message (refCounted/unrefCounted, 'unref'), and its fd.
 */
class Control extends EventEmitter {
  readonly #socket: Socket;
  #refs = 0;
  #refExplicitlySet = false;
  constructor(socket: Socket) {
    super();
    this.#socket = socket;
  }
  refCounted(): void {
    if (++this.#refs === 1 && !this.#refExplicitlySet) this.#socket.ref();
  }
  unrefCounted(): void {
    if (--this.#refs === 0 && !this.#refExplicitlySet) {
      this.#socket.unref();
      this.emit('unref');
    }
  }
  ref(): void {
    this.#refExplicitlySet = true;
    this.#socket.ref();
  }
  unref(): void {
    this.#refExplicitlySet = true;
    this.#socket.unref();
  }
  get fd(): number | undefined {
    return (this.#socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  }
}

const nodeError = <T extends Error>(error: T, code: string): T & { code: string } => Object.assign(error, { code });

/** What the channel needs of the child object it is set up on (ForkExecChildProcess). */
export interface ChannelTarget extends EventEmitter {
  connected: boolean;
  channel: unknown;
  send?: unknown;
  disconnect?: unknown;
}

const INTERNAL = /^NODE_./;
const isInternal = (message: unknown) =>
  typeof message === 'object' &&
  message !== null &&
  typeof (message as { cmd?: unknown }).cmd === 'string' &&
  INTERNAL.test((message as { cmd: string }).cmd);

/**
 * Sets up Node's IPC channel on `target` over `socket` (the parent's end of the pair). `closed` is
 * called once the child's end closed (the ChildProcess's 'close' waits for it, as Node's does).
 */
export function setupChannel(
  target: ChannelTarget,
  socket: Socket,
  serialization: Serialization,
  closed: () => void,
): void {
  const codec = serialization === 'advanced' ? advancedCodec() : jsonCodec();
  const control = new Control(socket);
  let held: [string, unknown][] = [];
  let ended = false;
  target.channel = control;
  target.connected = true;

  const emit = (event: string, message: unknown) => {
    if (event === 'internalMessage' || target.listenerCount('message')) target.emit(event, message, undefined);
    else held.push([event, message]);
  };
  socket.on('data', (data: Buffer) => {
    let messages: unknown[];
    try {
      messages = codec.parse(data);
    } catch (error) {
      // Node throws from its read callback: an uncaught exception in the parent, as here.
      process.nextTick(() => {
        throw error;
      });
      return;
    }
    for (const message of messages) {
      if (!target.channel) return;
      process.nextTick(emit, isInternal(message) ? 'internalMessage' : 'message', message);
    }
  });
  // The child's end closed (it exited or disconnected): Node disconnects and counts the channel closed.
  const onEnd = () => {
    if (ended) return;
    ended = true;
    codec.buffering = false;
    if (target.connected) disconnect.call(target);
    socket.destroy();
    target.channel = null;
    closed();
  };
  socket.on('end', onEnd);
  socket.on('error', onEnd); // ECONNRESET and the like end the channel as EOF does (Node: a failed read)
  socket.on('close', onEnd);

  target.on('newListener', () => {
    process.nextTick(() => {
      if (!target.channel || !target.listenerCount('message') || held.length === 0) return;
      const messages = held;
      held = [];
      for (const [event, message] of messages) target.emit(event, message, undefined);
    });
  });

  function send(this: ChannelTarget, message: unknown, handle?: unknown, options?: unknown, callback?: unknown) {
    if (typeof handle === 'function') [callback, handle, options] = [handle, undefined, undefined];
    else if (typeof options === 'function') [callback, options] = [options, undefined];
    else if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options)))
      throw nodeError(new TypeError('The "options" argument must be of type object.'), 'ERR_INVALID_ARG_TYPE');
    const fail = (error: Error) => {
      if (typeof callback === 'function') process.nextTick(callback as (e: Error) => void, error);
      else process.nextTick(() => this.emit('error', error));
      return false;
    };
    if (!this.connected) return fail(nodeError(new Error('Channel closed'), 'ERR_IPC_CHANNEL_CLOSED'));
    if (message === undefined)
      throw nodeError(new TypeError('The "message" argument must be specified'), 'ERR_MISSING_ARGS');
    if (!['string', 'object', 'number', 'boolean'].includes(typeof message))
      throw nodeError(
        new TypeError(
          'The "message" argument must be of type string or an instance of Object, Number, or Boolean.' +
            ` Received ${typeof message}`,
        ),
        'ERR_INVALID_ARG_TYPE',
      );
    if (handle) {
      countRefused('fork', 'send with a handle: a handle cannot travel over the fast path’s socket');
      return fail(
        new ForkExecError(
          'FORKEXEC_UNSUPPORTED_ACTION',
          'subprocess.send() with a handle: the channel of a child forked by forkexec carries messages only',
          {
            hint: 'Fork this child with node:child_process (it reads handles), or send the port or path instead of the handle.',
          },
        ),
      );
    }
    const swallowErrors =
      typeof options === 'boolean' ? options : (options as { swallowErrors?: boolean } | undefined)?.swallowErrors;
    let queued = false;
    const written = socket.write(codec.encode(message), (error) => {
      if (queued) control.unrefCounted();
      if (error) {
        if (!swallowErrors) fail(error);
      } else if (typeof callback === 'function') (callback as (e: null) => void)(null);
    });
    // A write left queued keeps the channel referenced until it is done, as in Node.
    queued = !written || socket.writableLength > 0;
    if (queued) control.refCounted();
    return socket.writableLength < 65536 * 2;
  }

  function disconnect(this: ChannelTarget) {
    if (!this.connected) {
      this.emit('error', nodeError(new Error('IPC channel is already disconnected'), 'ERR_IPC_DISCONNECTED'));
      return;
    }
    this.connected = false;
    this.channel = null;
    let fired = false;
    const finish = () => {
      if (fired) return;
      fired = true;
      // Closed from this side: Node's 'close' then never counts the channel (checked against Node 20).
      ended = true;
      socket.end(() => socket.destroy());
      target.emit('disconnect');
    };
    // A message partly read is told first.
    if (codec.buffering) {
      target.once('message', finish);
      target.once('internalMessage', finish);
    } else process.nextTick(finish);
  }

  target.send = send;
  target.disconnect = disconnect;
}
