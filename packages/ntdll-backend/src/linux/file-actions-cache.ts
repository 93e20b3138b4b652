/**
 * posix_spawn_file_actions lists kept for plans that repeat. Building one costs a koffi call per
 * action (about 10 us each on a busy event loop), and the same stdio and actions give the same
 * list spawn after spawn. posix_spawn only reads the list, so calls in flight may share one; an
 * evicted list is destroyed once the last of them has returned.
 */
import { check, FILE_ACTIONS_SIZE, type Libc } from './libc.js';
import type { FileOp } from './spawn-plan.js';

/** Lists kept at most (the least recently used goes first). */
const LIMIT = 32;

interface Entry {
  fa: Buffer;
  users: number;
  evicted: boolean;
}

/** A list ready for posix_spawn, until `release()`. */
export interface LeasedFileActions {
  fa: Buffer;
  release(): void;
}

/** What identifies a list: every field of every action, in order (paths hold no NUL byte). */
function keyOf(ops: readonly FileOp[]): string {
  let key = '';
  for (const op of ops) {
    switch (op.op) {
      case 'dup2':
        key += `d${op.from},${op.to}\0`;
        break;
      case 'close':
        key += `c${op.fd}\0`;
        break;
      case 'open':
        key += `o${op.fd},${op.flags},${op.mode},${op.path}\0`;
        break;
      case 'chdir':
        key += `h${op.path}\0`;
        break;
      case 'closefrom':
        key += `f${op.fd}\0`;
        break;
    }
  }
  return key;
}

export class FileActionsCache {
  readonly #libc: Libc;
  /** In order of last use, oldest first. */
  readonly #entries = new Map<string, Entry>();

  constructor(libc: Libc) {
    this.#libc = libc;
  }

  /** The list for `ops`, or the errno and action glibc refused up front (nothing stays allocated then). */
  lease(ops: readonly FileOp[]): LeasedFileActions | { errno: number; refused: FileOp } {
    const key = keyOf(ops);
    let entry = this.#entries.get(key);
    if (entry)
      this.#entries.delete(key); // re-inserted below: now the most recently used
    else {
      const built = this.#build(ops);
      if ('errno' in built) return built;
      entry = { fa: built, users: 0, evicted: false };
      this.#evictOldest();
    }
    this.#entries.set(key, entry);
    entry.users++;
    const leased = entry;
    let released = false;
    return {
      fa: leased.fa,
      release: () => {
        if (released) return;
        released = true;
        leased.users--;
        if (leased.evicted && leased.users === 0) this.#libc.file_actions_destroy(leased.fa);
      },
    };
  }

  #evictOldest(): void {
    if (this.#entries.size < LIMIT) return;
    const [key, oldest] = this.#entries.entries().next().value!;
    this.#entries.delete(key);
    oldest.evicted = true;
    if (oldest.users === 0) this.#libc.file_actions_destroy(oldest.fa);
  }

  #build(ops: readonly FileOp[]): Buffer | { errno: number; refused: FileOp } {
    const libc = this.#libc;
    const fa = Buffer.allocUnsafe(FILE_ACTIONS_SIZE); // posix_spawn_file_actions_init fills it
    check(libc.file_actions_init(fa), 'posix_spawn_file_actions_init');
    try {
      for (const op of ops) {
        const refused = addFileOp(libc, fa, op);
        if (refused !== 0) {
          libc.file_actions_destroy(fa);
          return { errno: refused, refused: op };
        }
      }
    } catch (error) {
      libc.file_actions_destroy(fa);
      throw error;
    }
    return fa;
  }
}

function addFileOp(libc: Libc, fa: Buffer, op: FileOp): number {
  switch (op.op) {
    case 'dup2':
      return libc.file_actions_adddup2(fa, op.from, op.to);
    case 'close':
      return libc.file_actions_addclose(fa, op.fd);
    case 'open':
      return libc.file_actions_addopen(fa, op.fd, op.path, op.flags, op.mode);
    case 'chdir':
      return libc.file_actions_addchdir(fa, op.path);
    case 'closefrom':
      return libc.file_actions_addclosefrom(fa, op.fd);
  }
}
