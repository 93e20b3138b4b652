/** A child's output as it arrives: collected per stream, read as lines, and turned into the result's values. */
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

/** Keeps what a child writes to one stream, and lets line readers follow along. */
export class OutputCollector {
  readonly chunks: Buffer[] = [];
  bytes = 0;
  ended = false;
  readonly done: Promise<void>;
  #wake: (() => void)[] = [];

  /** `all`: where the chunks of both streams are kept too, in the order they arrived. */
  constructor(stream: Readable, maxBuffer: number, onOverflow: () => void, all?: Buffer[]) {
    this.done = new Promise((resolve) => {
      const finish = () => {
        if (this.ended) return;
        this.ended = true;
        this.#notify();
        resolve();
      };
      stream.on('data', (chunk: Buffer) => {
        if (this.bytes + chunk.length > maxBuffer) {
          const kept = chunk.subarray(0, maxBuffer - this.bytes);
          this.chunks.push(kept);
          all?.push(kept);
          this.bytes = maxBuffer;
          stream.destroy();
          onOverflow();
          finish();
          return;
        }
        this.chunks.push(chunk);
        all?.push(chunk);
        this.bytes += chunk.length;
        this.#notify();
      });
      void drained(stream).then(finish);
    });
  }

  changed(): Promise<void> {
    return new Promise((resolve) => this.#wake.push(resolve));
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const resolve of wake) resolve();
  }

  async *lines(encoding: TextEncoding): AsyncGenerator<string> {
    const decoder = new StringDecoder(encoding);
    let rest = '';
    let next = 0;
    for (;;) {
      while (next < this.chunks.length) {
        rest += decoder.write(this.chunks[next++]);
        const parts = rest.split('\n');
        rest = parts.pop()!;
        for (const line of parts) yield line.endsWith('\r') ? line.slice(0, -1) : line;
      }
      if (this.ended) break;
      await this.changed();
    }
    rest += decoder.end();
    if (rest) yield rest;
  }
}

type TextEncoding = 'utf8' | 'utf-8' | 'utf16le' | 'utf-16le' | 'ucs2' | 'ucs-2' | 'latin1' | 'binary' | 'ascii';

/** The encoding lines are read in: the option's when it encodes text, else UTF-8. */
export function textEncoding(encoding: BufferEncoding | 'buffer' | undefined): TextEncoding {
  return encoding === undefined || /^(buffer|hex|base64|base64url)$/i.test(encoding)
    ? 'utf8'
    : (encoding as TextEncoding);
}

/**
 * Output as the result holds it: a Buffer, text with one final newline dropped unless told not
 * to, or the lines of the text (`lines`), each without its newline unless told not to.
 */
export function outputValue(
  chunks: Buffer[],
  encoding: BufferEncoding | 'buffer',
  stripFinalNewline: boolean,
  lines = false,
): string | Buffer | string[] {
  const buffer = Buffer.concat(chunks);
  if (encoding === 'buffer') return buffer;
  const text = buffer.toString(encoding);
  // hex, base64 and base64url spell bytes, they hold no lines
  const strip = stripFinalNewline && textEncoding(encoding) === encoding;
  if (lines) {
    const each = text === '' ? [] : text.split(/(?<=\n)/); // each line with its newline
    return strip ? each.map((line) => line.replace(/\r?\n$/, '')) : each;
  }
  return strip ? text.replace(/\r?\n$/, '') : text;
}

/** Settles once `stream` has delivered everything, or failed. */
export function drained(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.readableEnded || stream.destroyed) return resolve();
    stream
      .once('end', resolve)
      .once('close', resolve)
      .once('error', () => resolve());
  });
}
