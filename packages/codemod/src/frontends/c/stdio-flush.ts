import type { Node } from './syntax-tree.js';
import type { Planner } from './recorder.js';
import { isNullPointer } from './actions.js';
import { baseName } from './child-statements.js';
import { calledNames } from './syntax.js';

// fflush(f) and fclose(f) in the child act on its copy of the parent's stream: they write what the parent had
// buffered (a second time: the parent writes it too) and, for a reading stream, seek the shared fd back to where the
// parent's reads had got. With nothing pending and f not reading they make no call (glibc's _IO_new_file_sync,
// musl's fflush.c), and fclose only closes fileno(f). The parent asks that of its own stream when it records
// (forkexec_fflush, forkexec_fclose: <stdio_ext.h>'s __fpending and __freading); anything else cancels, and the slow
// path's child flushes for real.

/** The stdio calls the recording asks the stream about. */
export const STDIO_FLUSHES = new Set(['fflush', 'fclose']);

/** Records a child's `fflush(f);` or `fclose(f);` statement, or says why it cannot be. */
export function recordStdioFlush(p: Planner, name: string, args: Node[]): void {
  const [stream] = args;
  const what = `${name}(${args.map((a) => a.text).join(', ')})`;
  if (!stream || args.length !== 1) return p.block(`${what}: a ${name}() the rewrite does not read`);
  if (isNullPointer(stream.text))
    return p.block(`${what} flushes every stream of the child's copy: the parent cannot ask them all`);
  if (name === 'fclose' && p.vfork) return p.block(`${what}: a vfork child closes the parent's stream`);
  if (calledNames(stream).length) return p.block(`${what}: the stream is computed by a call`);
  if (!p.reads(stream)) return;
  p.record(`forkexec_${name}(fx, ${p.text(stream)})`);
  // the child's stream is closed from here on (its FILE freed): nothing recorded after may read it
  const base = baseName(stream);
  if (name === 'fclose' && base) p.changed.set(base, `which the child closed (${what})`);
}
