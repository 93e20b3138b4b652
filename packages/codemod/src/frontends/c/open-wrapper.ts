import type { Node } from './syntax-tree.js';
import type { Planner } from './recorder.js';
import { callArgs, calledNames } from './syntax.js';

// A project's open() wrapper (lxc's `open_devnull(void) { int fd = open("/dev/null", O_RDWR); if (fd < 0)
// SYSERROR(…); return fd; }`): on success it returns what open() returns, and its other code runs only when open()
// failed. `fd = open_devnull();` is then recorded as `fd = open("/dev/null", O_RDWR);`: onto the fd the child's open
// would get (forkexec_next_fd), a failure taking the slow path, where the wrapper runs as written.

/** The open() a wrapper makes: its parameters and open's arguments as written (a parameter's name, a literal, or
 * O_…/S_I… constants joined by |), which mean the same in any file. */
export interface OpenWrapper {
  params: string[];
  args: string[];
}

const ID = '[A-Za-z_]\\w*';
/** A failure branch: one statement or one block without nested blocks. */
const BRANCH = '(?:\\{[^{}]*\\}|[^;{}]*;)';

/** The open() wrapper a definition is, or null. body: masked (literals blanked, offsets kept); raw: the same text as
 * written, from which open's arguments are taken. */
export function openWrapperOf(params: string, body: string, raw: string): OpenWrapper | null {
  const own = params.trim() === 'void' || !params.trim() ? [] : params.split(',').map((p) => /(\w+)\s*$/.exec(p)?.[1]);
  if (own.some((p) => !p)) return null;
  const shape = new RegExp(
    `^\\{\\s*int\\s+(${ID})\\s*(?:=|;\\s*\\1\\s*=)\\s*open\\s*\\(([^()]*)\\)\\s*;\\s*` +
      `if\\s*\\(\\s*\\1\\s*(?:<\\s*0|==\\s*-1)\\s*\\)\\s*${BRANCH}\\s*return\\s+\\1\\s*;\\s*\\}$`,
    'd',
  ).exec(body) as (RegExpExecArray & { indices: [number, number][] }) | null;
  if (!shape) return null;
  const [from, to] = shape.indices[2];
  const masked = body.slice(from, to);
  const args: string[] = [];
  let at = 0;
  for (const part of masked.split(',')) {
    args.push(raw.slice(from + at, from + at + part.length).trim());
    at += part.length + 1;
  }
  const constant = /^(?:"[^"\\]*"|[0-9]+|0[0-7]*|(?:O_[A-Z_]+|S_I[A-Z]+)(?:\s*\|\s*(?:O_[A-Z_]+|S_I[A-Z]+))*)$/;
  if (args.length < 2 || args.length > 3 || !args.every((a) => constant.test(a) || own.includes(a))) return null;
  if (/\bO_EXCL\b/.test(args[1])) return null;
  return { params: own as string[], args };
}

/** open()'s arguments, as C text in the caller, for a call of such a wrapper; a string: why not. */
export function wrappedOpenArgs(p: Planner, call: Node, wrapper: OpenWrapper): string[] | string {
  const given = callArgs(call);
  if (given.length !== wrapper.params.length) return `${call.text}: not the wrapper's parameters`;
  if (given.some((a) => calledNames(a).length || !p.reads(a)))
    return `${call.text.split('\n')[0]} calls a function in its arguments`;
  return wrapper.args.map((a) => {
    const i = wrapper.params.indexOf(a);
    return i < 0 ? a : `(${p.text(given[i])})`;
  });
}
