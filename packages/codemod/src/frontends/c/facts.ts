import { type CloseWalk, closeWalkOf } from './close-walk.js';
import { type FormatWrapper, formatWrapperOf } from './format-wrapper.js';
import { type EndingAllocator, endingAllocatorOf } from './ending-allocators.js';
import { type OpenWrapper, openWrapperOf } from './open-wrapper.js';
import type { GuardedLog } from './guarded-log.js';
import { type ForkFunction, forkFunctionsOf } from './fork-functions.js';
import { EXEC_CALLS, EXIT_CALLS, FORK_CALLS, NORETURN_CALLS } from './operations.js';

/**
 * What one C project says about its functions and macros, read from the text of all its files (headers declare what
 * sources call): the functions that never return, and the macros that stand for a fork or an exec call.
 * Plain data, so it crosses worker threads.
 */
export interface ProjectFacts {
  noreturn: string[];
  /** Macro name → the fork or exec call its body is (`#define do_fork() fork()` → fork). */
  aliases: Record<string, string>;
  /**
   * Functions of the project's .c files that a child may call and the recorder may inline as actions: name → the
   * definition's text. Only bodies that read nothing but their parameters and upper-case constants (no globals of
   * their file, no locals, no #if), so their text means the same in the caller's file; null: two files define the
   * name differently.
   */
  helpers?: Record<string, string | null>;
  /** Functions of the project's .c files that call sigaction: signal-wrapper.ts reads which are signal(). */
  signalWrappers?: Record<string, string | null>;
  /** Functions of the project's .c files that call actions but cannot be inlined in another file: name → why (an
   * #if in the body, a name that is not its own), for the refusal's reason. */
  refusedHelpers?: Record<string, string>;
  /** The refused helpers' definitions, for a recording twin in their own file (recording-twin.ts): name → the file
   * (set by the scan, '' from factsOf) and the text; null: two files define the name. */
  twinHelpers?: Record<string, TwinHelper | null>;
  /** Function-like macros whose body is one call (`#define sig_uncatch(s) (sig_catch((s),sig_defaulthandler))`): name
   * → its parameters, the function and its arguments as written; null: defined more than one way. */
  callMacros?: Record<string, CallMacro | null>;
  /** Macros whose body is calls (`#define fatal(...) sshfatal(...)`, `#define MY_GID(pw) getgid()`): name → what
   * they call, read two ways (MacroCalls). */
  macroCalls?: Record<string, MacroCalls>;
  /** Macro name → the fork call it wraps in one call of a function that gets the pid (`#define XVFORK()
   * xvforkwrap(vfork())`): its calls fork, but do more than fork. */
  wrappedForks?: Record<string, string>;
  /** Functions of the project whose fork's child returns to the caller (the census's second pass): their calls in
   * other files are fork sites. */
  wrappers?: string[];
  /** Wrappers whose child returns a constant no other return gives (`return FORK_CHILD;`): the constant. */
  childReturns?: Record<string, string>;
  /**
   * Function-like macros whose body does something only under a condition (`#define DEBUG(...) do { if (debug)
   * { fprintf(…); } } while (0)`): name → its parameters and that condition; null: defined more than one way.
   */
  guardedMacros?: Record<string, GuardedMacro | null>;
  /** Function name → the call its body ends in when it has no `return` (`_realexit(void) { _exit(v); }`); null: a
   * body that ends otherwise, or two definitions that differ. mergeFacts adds to noreturn the functions whose chain
   * of such calls ends in an exit or a never-returning function, in any file. */
  endsIn?: Record<string, string | null>;
  /** Function-like macros whose body is a bare `if` (no `do { } while (0)`): `if (x) M(); else …` gives the else
   * to the macro's own `if`, not to the one written. */
  danglingMacros?: string[];
  /** Functions whose body only returns an expression without effect (`log_level_get(void) { return log_level; }`):
   * name → what they read; null: defined more than one way, or one definition is not such a read. */
  pureReads?: Record<string, PureRead | null>;
  /** snprintf wrappers that end the program on truncation (format-wrapper.ts): name → parameters; null: defined
   * more than one way, or one definition is not such a wrapper. */
  formatWrappers?: Record<string, FormatWrapper | null>;
  /** Functions that close every fd from a number up to the fd limit but one (close-walk.ts): name → what they close;
   * null: defined more than one way, or one definition is not such a walk. */
  closeWalks?: Record<string, CloseWalk | null>;
  /** Allocators that end the program when the C library's call fails (ending-allocators.ts): name → that call;
   * null: defined more than one way, or one definition is not such an allocator. */
  endingAllocators?: Record<string, EndingAllocator | null>;
  /** open() wrappers (open-wrapper.ts): name → the open they make; null: defined more than one way, or not one. */
  openWrappers?: Record<string, OpenWrapper | null>;
  /** Log functions that write nothing while a guard on memory holds (guarded-log.ts): name → the guard; null:
   * defined more than one way. Read from .c files by the scan, which sets each one's file. */
  guardedLogs?: Record<string, GuardedLog | null>;
  /** Functions of the project's .c files that call fork(), each definition (other-file-wrappers.ts): the wrappers
   * among them make fork sites of their calls in other files, which the codemod may convert. */
  forkFunctions?: Record<string, ForkFunction[]>;
}

/** A function of another file that the recording may call a twin of, generated in that file. */
export interface TwinHelper {
  file: string;
  text: string;
}

/** A macro that is one call of a function, its arguments written over the macro's parameters. */
export interface CallMacro {
  params: string[];
  call: string;
  args: string[];
}

/** `f(a, (b), c)` or `(f(a, b))` whole, arguments split at their top-level commas; null: the body is more. */
function callMacroOf(params: string, body: string): CallMacro | null {
  const text = maskLiterals(body.trim());
  const m = /^(\(\s*)?([A-Za-z_]\w*)\s*\(/.exec(text);
  if (!m || /^(?:if|while|for|switch|return|sizeof|do)$/.test(m[2]) || /[;{}]/.test(text)) return null;
  const open = m[0].length - 1;
  const args: string[] = [];
  let depth = 0;
  let from = open + 1;
  let close = -1;
  for (let i = open; i < text.length && close < 0; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) close = i;
    else if (text[i] === ',' && depth === 1) {
      args.push(body.trim().slice(from, i).trim());
      from = i + 1;
    }
  }
  if (close < 0 || text.slice(close + 1).trim() !== (m[1] ? ')' : '')) return null;
  const last = body.trim().slice(from, close).trim();
  if (last || args.length) args.push(last);
  return { params: splitParams(params), call: m[2], args };
}

/** What a project function that only reads answers from: the globals it names and the process state its calls read
 * (SAME_IN_PARENT). Called in front of the fork, it answers as in the child unless the child changed one of them. */
export interface PureRead {
  globals: string[];
  states: ParentState[];
}

/** What a macro's body calls. */
export interface MacroCalls {
  /** The one call the body is, whatever its arguments (the census: a macro for a never-returning function never
   * returns either). */
  call?: string;
  /**
   * A function-like macro that stands for calls (cronie's `MY_GID(pw)`): the functions its body calls, when it names
   * nothing else but its parameters and upper-case constants; null: a definition (of several) that names more. A
   * condition or an action's argument may use one when the parent answers each call as the child would.
   */
  calls?: string[] | null;
}

/** Two definitions (under #if, or in two files) stand for calls when both do: the union of their calls, or null. */
function mergeCalls(before: string[] | null | undefined, mine: string[] | null): string[] | null {
  if (before === undefined) return mine;
  return before && mine ? [...new Set([...before, ...mine])] : null;
}

export interface GuardedMacro {
  params: string[];
  condition: string;
}

export const NO_FACTS: ProjectFacts = { noreturn: [], aliases: {} };

/** The calls that have an action (actions.ts), and sigaction: a helper without one has nothing to record. */
export const ACTION_CALL =
  /\b(?:sigaction|close|dup2|closefrom|chdir|fchdir|setgid|setuid|setreuid|setregid|setresuid|setresgid|initgroups|ioctl|umask|setsid|setpgid|setpgrp|signal|sigprocmask|pthread_sigmask|setgroups|setrlimit|nice|setenv|unsetenv)\s*\(/;
const HELPER_MAX = 1500;

const NORETURN_MARK = /\b(?:_Noreturn|noreturn|__noreturn__|__dead2?|[A-Z_]*NORETURN[A-Z_]*|NO_RETURN)\b/;
const ATTRIBUTE = /__attribute__\s*\(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)\)|\[\[[^\]]*\]\]|__declspec\s*\([^)]*\)/g;
const KEYWORDS = new Set(['if', 'while', 'for', 'switch', 'return', 'sizeof', 'defined', '__typeof__', 'typeof']);

export function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

/** `#define` lines, continuation lines joined: [name, parameters or null, body]. */
function defines(text: string): [string, string | null, string][] {
  const out: [string, string | null, string][] = [];
  const re = /^[ \t]*#[ \t]*define[ \t]+(\w+)(\([^)]*\))?((?:[^\n\\]|\\\r?\n|\\.)*)/gm;
  for (const m of text.matchAll(re)) out.push([m[1], m[2] ?? null, m[3].replace(/\\\r?\n/g, ' ').trim()]);
  return out;
}

/** Blanks string and character literals (same length), so braces and parentheses in them do not count. */
export function maskLiterals(text: string): string {
  return text.replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, (m) => m[0] + ' '.repeat(m.length - 2) + m[0]);
}

/** A top-level `{ }` of a file: `head` the masked text since the previous top-level `;` or `}`, `open`/`close` the
 * offsets of its braces (in `masked`, the text with literals and preprocessor lines blanked, offsets kept). */
export interface TopLevelBody {
  masked: string;
  head: string;
  headStart: number;
  open: number;
  close: number;
}

export function* topLevelBodies(text: string): Generator<TopLevelBody> {
  const masked = maskLiterals(text).replace(/^[ \t]*#(?:[^\n\\]|\\\r?\n|\\.)*/gm, (m) => m.replace(/[^\n]/g, ' '));
  let depth = 0;
  let open = -1;
  let headStart = 0;
  for (let i = 0; i < masked.length; i++) {
    const c = masked[i];
    if (c === '{' && depth++ === 0) open = i;
    else if (c === '}' && depth > 0 && --depth === 0) {
      yield { masked, head: masked.slice(headStart, open), headStart, open, close: i };
      headStart = i + 1;
    } else if (c === ';' && depth === 0) headStart = i + 1;
  }
}

/**
 * The top-level function definitions of a .c file that can be inlined in another file: not static, a body that
 * records actions, and that names nothing but its parameters and upper-case constants not #defined in its own file.
 */
function helperDefinitions(
  text: string,
  defined: Set<string>,
): {
  inline: [string, string][];
  signal: [string, string][];
  refused: [string, string][];
  twins: [string, string][];
} {
  const signal: [string, string][] = [];
  const twins: [string, string][] = [];
  const out: [string, string][] = [];
  const refused: [string, string][] = [];
  for (const { head, headStart, open, close: i } of topLevelBodies(text)) {
    // a function-pointer parameter (runit's `sig_catch(int sig, void (*f)())`) has parentheses of its own
    const sig =
      /(?:^|[\s*])([A-Za-z_]\w*)\s*\(([^()]*)\)\s*$/.exec(head) ??
      POINTER_RETURNING.exec(head) ??
      /(?:^|[\s*])([A-Za-z_]\w*)\s*\(((?:[^()]|\([^()]*\))*)\)\s*$/.exec(head);
    const body = text.slice(open, i + 1);
    const candidate = sig && !/\bstatic\b|=/.test(head) && body.length <= HELPER_MAX;
    // a signal wrapper (signal-wrapper.ts) may also be inlined as its statements (a signal-reset helper)
    if (candidate && /\bsigaction\s*\(/.test(body)) signal.push([sig[1], text.slice(headStart, i + 1).trim()]);
    if (candidate && ACTION_CALL.test(body)) twins.push([sig[1], text.slice(headStart, i + 1).trim()]);
    if (candidate && ACTION_CALL.test(body) && /\n[ \t]*#/.test(body))
      refused.push([
        sig[1],
        'has #if inside its body: which configuration its own file was built with is not visible at the call',
      ]);
    else if (candidate && ACTION_CALL.test(body)) {
      const params = namedParameters(sig[2]);
      const names = [...maskLiterals(body).matchAll(/(\.|->)?\s*\b([A-Za-z_]\w*)\b(\s*\()?/g)];
      // its own scalar locals (an fd, a result) mean the same in any file; so do libc's errno and streams
      const locals = new Set([
        'errno',
        'stdin',
        'stdout',
        'stderr',
        'int',
        'unsigned',
        'signed',
        'long',
        'short',
        'pid_t',
        'mode_t',
      ]);
      for (const m of body.matchAll(
        /(?<=[{;])\s*(?:unsigned\s+|signed\s+)?(?:int|long|short|pid_t|mode_t)\s+([^;(){}]*);/g,
      ))
        for (const d of m[1].split(',')) locals.add(/^\s*([A-Za-z_]\w*)/.exec(d)?.[1] ?? '');
      // the struct sigaction and sigset_t a signal-reset helper builds (helper-inlining.ts: the recording's copies)
      for (const m of maskLiterals(body).matchAll(
        /(?<=[{;])\s*(struct\s+sigaction|sigset_t)\s+((?:[^;(){}]|\{\s*0?\s*\})*);/g,
      )) {
        locals.add(m[1].startsWith('struct') ? 'struct' : 'sigset_t').add('sigaction');
        for (const d of m[2].split(',')) locals.add(/^\s*([A-Za-z_]\w*)/.exec(d)?.[1] ?? '');
      }
      const foreign = names.filter(
        ([, member, name, call]) =>
          !member &&
          !call &&
          !params.has(name) &&
          !locals.has(name) &&
          !['return', 'if', 'else', 'for', 'while', 'do', 'void', 'sizeof'].includes(name) &&
          (!/^[A-Z_][A-Z0-9_]*$/.test(name) || defined.has(name)),
      );
      if (!foreign.length) out.push([sig[1], text.slice(headStart, i + 1).trim()]);
      else {
        const tags = new Set([...body.matchAll(/\b(?:struct|union|enum)\s+(\w+)/g)].map((m) => m[1]));
        refused.push([sig[1], foreignReason(foreign.map(([, , name]) => name).filter((name) => !tags.has(name)))]);
      }
    }
  }
  const refusedNames = new Set(refused.map(([name]) => name));
  return { inline: out, signal, refused, twins: twins.filter(([name]) => refusedNames.has(name)) };
}

/** The head of a function that returns a function pointer (screen's `void (*xsignal(int sig, void (*func)(int)))(int)`,
 * a signal wrapper returning the old handler): its name and parameters. */
const POINTER_RETURNING = /\(\s*\*\s*([A-Za-z_]\w*)\s*\(((?:[^()]|\([^()]*\))*)\)\s*\)\s*\([^()]*\)\s*$/;

const KEYWORDS_AND_TYPES = new Set(
  'struct union enum const volatile static extern register typedef char short long float double signed unsigned bool void int size_t ssize_t goto case default break continue switch'.split(
    ' ',
  ),
);

/** Why a helper's body does not mean the same in another file, from the names that are neither its own nor
 * constants: the first that is no C keyword or type (a type word alone: it declares memory of its own). */
function foreignReason(foreign: string[]): string {
  const named = foreign.find((name) => !KEYWORDS_AND_TYPES.has(name));
  return named
    ? `names ${named}, neither a parameter, a scalar local nor an upper-case constant: in the caller's file it would be another variable, or none`
    : 'declares memory of its own (a struct, an array, a pointer), which the recording does not copy';
}

/** Queries that write only the buffer their last argument points to: with a local's address, a read. */
const QUERY_INTO_LOCAL: Record<string, ParentState> = { stat: 'files', lstat: 'files' };
const C_WORDS = new Set([...KEYWORDS, 'NULL', 'true', 'false', 'struct', 'const', 'unsigned', 'signed']);

/**
 * The top-level functions of a file whose body is `return EXPR;` after declarations without a value, where EXPR
 * writes nothing and calls only what answers in the parent as in the child (SAME_IN_PARENT, or stat(path, &local)):
 * `log_level_get(void) { return log_level; }`, `is_empty_string(s) { return !s || strcmp(s, "") == 0; }`. Names
 * in upper case (a macro may hide a call), errno (the parent's changes while it records) and environ (exec's to
 * pass, after the actions) make no read; nor do bodies with #if.
 */
function pureReadDefinitions(text: string): Record<string, PureRead | null> {
  return definitionsAs(text, (body, params) => pureRead(body.slice(1, -1), params));
}

/** Each top-level function of a file read as read(its body with braces, its parameters); a body with #if, or two
 * definitions of the same name that read differently: null. */
function definitionsAs<T>(
  text: string,
  read: (body: string, params: string, raw: string) => T | null,
): Record<string, T | null> {
  const out: Record<string, T | null> = {};
  for (const { masked, head, open, close } of topLevelBodies(text)) {
    const sig = /(?:^|[\s*])([A-Za-z_]\w*)\s*\(([^()]*)\)\s*$/.exec(head);
    if (!sig || KEYWORDS.has(sig[1]) || /=/.test(head)) continue;
    // a body with #if reads one way per configuration: none
    const found = /\n[ \t]*#/.test(text.slice(open, close + 1))
      ? null
      : read(masked.slice(open, close + 1), sig[2], text.slice(open, close + 1));
    const name = sig[1];
    out[name] = Object.hasOwn(out, name) && JSON.stringify(out[name]) !== JSON.stringify(found) ? null : found;
  }
  return out;
}

function pureRead(body: string, params: string): PureRead | null {
  const shape = /^\s*((?:(?:struct\s+)?[A-Za-z_]\w*\s+[A-Za-z_]\w*\s*;\s*)*)return\b([^;]*);\s*$/.exec(body);
  if (!shape) return null;
  const expr = shape[2];
  if (/(?:^|[^=!<>])=(?!=)|\+\+|--/.test(expr)) return null;
  const locals = new Set([...shape[1].matchAll(/([A-Za-z_]\w*)\s*;/g)].map((m) => m[1]));
  const own = namedParameters(params);
  const states = new Set<ParentState>();
  const globals = new Set<string>();
  for (const [, member, name, call] of expr.matchAll(/(\.|->)?\s*\b([A-Za-z_]\w*)\b(\s*\()?/g)) {
    if (member || C_WORDS.has(name) || own.has(name) || /^[0-9]/.test(name)) continue;
    if (call) {
      if (Object.hasOwn(SAME_IN_PARENT, name)) states.add(SAME_IN_PARENT[name]);
      else if (Object.hasOwn(QUERY_INTO_LOCAL, name)) states.add(QUERY_INTO_LOCAL[name]);
      else return null;
    } else if (locals.has(name)) {
      // a local only as the buffer a query writes (`&statbuf`)
      if (
        !new RegExp(`\\b(?:${Object.keys(QUERY_INTO_LOCAL).join('|')})\\s*\\([^;()]*,\\s*&\\s*${name}\\s*\\)`).test(
          expr,
        )
      )
        return null;
    } else if (/^[A-Z_][A-Z0-9_]*$/.test(name) || name === 'errno' || name === 'environ') return null;
    else globals.add(name);
  }
  return { globals: [...globals].sort(), states: [...states].sort() };
}

/** Each top-level function definition's last call statement when its body has no `return` (else null): the text
 * of `endsEveryPath` (classify.ts), readable in files the census does not parse. */
function endingCalls(text: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const { masked, head, open, close } of topLevelBodies(text)) {
    const name = /(?:^|[\s*])([A-Za-z_]\w*)\s*\([^()]*\)\s*$/.exec(head)?.[1];
    if (!name || KEYWORDS.has(name) || /=/.test(head)) continue;
    const body = masked.slice(open, close);
    // a statement of its own (after `;`, `{`, `}` or a label), no #if between it and the one before
    const last = /([;{}:])\s*([A-Za-z_]\w*)\s*\([^;{}]*\)\s*;\s*$/.exec(body);
    const plain = last && !/\n[ \t]*#/.test(text.slice(open + last.index, close));
    const ends = plain && !/\breturn\b/.test(body) ? last[2] : null;
    out[name] = Object.hasOwn(out, name) && out[name] !== ends ? null : ends;
  }
  return out;
}

/** The functions a function-like macro's body calls, when it names nothing else but its parameters and upper-case
 * constants; null otherwise. */
function callsOf(params: string, body: string): string[] | null {
  const own = new Set(
    params
      .slice(1, -1)
      .split(',')
      .map((p) => p.trim()),
  );
  const names = [...maskLiterals(body).matchAll(/(\.|->)?\s*\b([A-Za-z_]\w*)\b(\s*\()?/g)];
  const calls = names.filter(([, , , call]) => call).map(([, , n]) => n);
  const plain = names.every(([, member, n, call]) => member || call || own.has(n) || /^[A-Z_][A-Z0-9_]*$/.test(n));
  return plain && calls.length ? [...new Set(calls)] : null;
}

/** The facts of one file's text; merge several with mergeFacts. helpers: read its inlinable functions (a .c file). */
export function factsOf(source: string, helpers = false): ProjectFacts {
  const text = withoutComments(source);
  const aliases: Record<string, string> = {};
  const macroCalls: Record<string, MacroCalls> = {};
  const wrappedForks: Record<string, string> = {};
  for (const [name, params, body] of defines(text)) {
    const call = /^\(?\s*(\w+)\s*\(/.exec(body)?.[1];
    const calls = params === null || /[;{}=]/.test(body) ? undefined : callsOf(params, body);
    if ((call && !/[;{]/.test(body)) || calls !== undefined) {
      const entry = (macroCalls[name] ??= {});
      if (call && !/[;{]/.test(body)) entry.call = call;
      if (calls !== undefined) entry.calls = mergeCalls(entry.calls, calls);
    }
    const wrapped = /^\(?\s*\w+\s*\(\s*(\w+)\s*\(\s*\)\s*\)\s*\)?$/.exec(body)?.[1];
    if (wrapped && FORK_CALLS.has(wrapped)) wrappedForks[name] = wrapped;
    // only a body that is that one call: anything more is code that only its expansion shows
    if (call && (FORK_CALLS.has(call) || EXEC_CALLS.has(call)) && /\)\s*\)?$/.test(body) && !/[;{]/.test(body))
      aliases[name] = call;
  }
  const noreturn = new Set<string>();
  const code = text.replace(/^[ \t]*#(?:[^\n\\]|\\\r?\n|\\.)*/gm, ' ');
  for (const chunk of code.split(/[;{}]/)) {
    if (!NORETURN_MARK.test(chunk)) continue;
    // a project's attribute macro (`ACUTEST_ATTRIBUTE_(noreturn)`) is not the function's name
    const bare = chunk.replace(ATTRIBUTE, ' ').replace(/\b\w+\s*\(\s*_*noreturn_*\s*\)/g, ' ');
    for (const m of bare.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) {
      if (KEYWORDS.has(m[1]) || NORETURN_MARK.test(m[1])) continue;
      noreturn.add(m[1]);
      break;
    }
  }
  const callMacros: Record<string, CallMacro | null> = {};
  for (const [name, params, body] of defines(text))
    if (params !== null) mergeSame(callMacros, { [name]: callMacroOf(params, body) });
  const guardedMacros: Record<string, GuardedMacro | null> = {};
  for (const [name, params, body] of defines(text)) {
    const condition = params === null ? null : guardOf(body);
    const found = condition === null ? null : { params: splitParams(params!), condition };
    addGuarded(guardedMacros, name, found);
  }
  const danglingMacros = defines(text)
    .filter(([, params, body]) => params !== null && /^if\s*\(/.test(body))
    .map(([name]) => name);
  const facts = {
    callMacros,
    pureReads: pureReadDefinitions(text),
    formatWrappers: definitionsAs(text, (body, params) => formatWrapperOf(params, body)),
    closeWalks: definitionsAs(text, (body, params) => closeWalkOf(params, body)),
    endingAllocators: definitionsAs(text, (body, params) => endingAllocatorOf(params, body)),
    openWrappers: definitionsAs(text, (body, params, raw) => openWrapperOf(params, body, raw)),
    noreturn: [...noreturn],
    aliases,
    macroCalls,
    wrappedForks,
    guardedMacros,
    danglingMacros,
    endsIn: endingCalls(text),
  };
  if (!helpers) return facts;
  const found = helperDefinitions(text, new Set(defines(text).map(([name]) => name)));
  return {
    ...facts,
    helpers: Object.fromEntries(found.inline),
    signalWrappers: Object.fromEntries(found.signal),
    refusedHelpers: Object.fromEntries(found.refused),
    twinHelpers: Object.fromEntries(found.twins.map(([name, text]) => [name, { file: '', text }])),
    forkFunctions: forkFunctionsOf(text, topLevelBodies(text)),
  };
}

function endsProcess(call: string, noreturn: Set<string>): boolean {
  return noreturn.has(call) || EXIT_CALLS.has(call) || NORETURN_CALLS.has(call);
}

/** Adds from's entries; a name two files read differently is null. */
function mergeSame<T>(into: Record<string, T | null>, from: Record<string, T | null> = {}): void {
  for (const [name, value] of Object.entries(from))
    into[name] = Object.hasOwn(into, name) && JSON.stringify(into[name]) !== JSON.stringify(value) ? null : value;
}

export function mergeFacts(all: ProjectFacts[]): ProjectFacts {
  const noreturn = new Set<string>();
  const aliases: Record<string, string> = {};
  const helpers: Record<string, string | null> = {};
  const signalWrappers: Record<string, string | null> = {};
  const refusedHelpers: Record<string, string> = {};
  const twinHelpers: Record<string, TwinHelper | null> = {};
  const callMacros: Record<string, CallMacro | null> = {};
  const macroCalls: Record<string, MacroCalls> = {};
  const wrappedForks: Record<string, string> = {};
  const wrappers = new Set<string>();
  const childReturns: Record<string, string> = {};
  const guardedMacros: Record<string, GuardedMacro | null> = {};
  const danglingMacros = new Set<string>();
  const endsIn: Record<string, string | null> = {};
  const pureReads: Record<string, PureRead | null> = {};
  const formatWrappers: Record<string, FormatWrapper | null> = {};
  const closeWalks: Record<string, CloseWalk | null> = {};
  const endingAllocators: Record<string, EndingAllocator | null> = {};
  const openWrappers: Record<string, OpenWrapper | null> = {};
  const guardedLogs: Record<string, GuardedLog | null> = {};
  const forkFunctions: Record<string, ForkFunction[]> = {};
  // a name two files define differently is neither
  const add = (into: Record<string, string | null>, from: Record<string, string | null> = {}) => {
    for (const [name, text] of Object.entries(from))
      into[name] = Object.hasOwn(into, name) && into[name] !== text ? null : text;
  };
  for (const f of all) {
    f.noreturn.forEach((n) => noreturn.add(n));
    Object.assign(aliases, f.aliases);
    for (const [name, m] of Object.entries(f.macroCalls ?? {})) {
      const entry = (macroCalls[name] ??= {});
      if (m.call !== undefined) entry.call = m.call;
      if (m.calls !== undefined) entry.calls = mergeCalls(entry.calls, m.calls);
    }
    Object.assign(wrappedForks, f.wrappedForks);
    f.wrappers?.forEach((w) => wrappers.add(w));
    Object.assign(childReturns, f.childReturns);
    add(helpers, f.helpers);
    add(signalWrappers, f.signalWrappers);
    Object.assign(refusedHelpers, f.refusedHelpers);
    mergeSame(twinHelpers, f.twinHelpers);
    mergeSame(callMacros, f.callMacros);
    for (const [name, guard] of Object.entries(f.guardedMacros ?? {})) addGuarded(guardedMacros, name, guard);
    f.danglingMacros?.forEach((m) => danglingMacros.add(m));
    add(endsIn, f.endsIn);
    mergeSame(pureReads, f.pureReads);
    mergeSame(formatWrappers, f.formatWrappers);
    mergeSame(closeWalks, f.closeWalks);
    mergeSame(endingAllocators, f.endingAllocators);
    mergeSame(openWrappers, f.openWrappers);
    mergeSame(guardedLogs, f.guardedLogs);
    for (const [name, defs] of Object.entries(f.forkFunctions ?? {}))
      forkFunctions[name] = [...(forkFunctions[name] ?? []), ...defs];
  }
  // a body that ends in a call that never returns never returns either, through any number of files
  for (let grew = true; grew;) {
    grew = false;
    for (const [name, last] of Object.entries(endsIn))
      if (
        last &&
        !noreturn.has(name) &&
        [last, Object.hasOwn(macroCalls, last) ? macroCalls[last].call : null].some(
          (c) => c && endsProcess(c, noreturn),
        )
      )
        grew = !!noreturn.add(name);
  }
  return {
    noreturn: [...noreturn],
    aliases,
    helpers,
    signalWrappers,
    refusedHelpers,
    twinHelpers,
    callMacros,
    macroCalls,
    wrappedForks,
    wrappers: [...wrappers],
    childReturns,
    guardedMacros,
    danglingMacros: [...danglingMacros],
    pureReads,
    formatWrappers,
    closeWalks,
    endingAllocators,
    openWrappers,
    guardedLogs,
    forkFunctions,
  };
}

/** The process state a call reads; the child starts with the parent's copy of each. */
export type ParentState = 'memory' | 'environment' | 'fds' | 'files' | 'uids' | 'gids' | 'limits';

/**
 * Calls a child's condition may make that the parent evaluates in front of the fork with the child's answer: they
 * have no effect, and they read only state the child inherits as it was at the fork. Anything else (getpid and
 * getppid differ, a write, a read of a stream) keeps its site unconverted.
 */
export const SAME_IN_PARENT: Record<string, ParentState> = {
  // the child's memory is a copy of the parent's
  strlen: 'memory',
  strcmp: 'memory',
  strncmp: 'memory',
  strcasecmp: 'memory',
  strncasecmp: 'memory',
  strchr: 'memory',
  strrchr: 'memory',
  strstr: 'memory',
  memcmp: 'memory',
  atoi: 'memory',
  fileno: 'memory', // the stream's fd, read from its FILE: the child's is a copy
  // so is its environment
  getenv: 'environment',
  secure_getenv: 'environment',
  // its fd table holds the same open files
  isatty: 'fds',
  // the same cwd, root and real ids resolve and check the same path
  access: 'files',
  // the same ids
  getuid: 'uids',
  geteuid: 'uids',
  getgid: 'gids',
  getegid: 'gids',
  // the same resource limits: the fd table's size (RLIMIT_NOFILE), sysconf's other answers are the system's
  getdtablesize: 'limits',
  sysconf: 'limits',
};

/** The actions that change what a state's calls answer: after one, the parent's answer is not the child's. */
export const CHANGED_BY: Record<ParentState, string[]> = {
  memory: [],
  environment: ['setenv', 'unsetenv'],
  fds: ['close', 'close_checked', 'closefrom', 'close_range', 'dup2', 'open', 'fclose'],
  files: [
    'chdir',
    'fchdir',
    'setuid',
    'setgid',
    'setgroups',
    'setreuid',
    'setregid',
    'setresuid',
    'setresgid',
    'initgroups',
  ],
  // a gid call changes no user id, a uid call no group id, setgroups and initgroups neither
  uids: ['setuid', 'setreuid', 'setresuid'],
  gids: ['setgid', 'setregid', 'setresgid'],
  limits: ['setrlimit'],
};

/** The names a parameter list gives its parameters (`char *argv[]` names argv; `void` names none). */
export function namedParameters(list: string): Set<string> {
  return new Set(
    list
      .split(',')
      .map((p) => /([A-Za-z_]\w*)\s*(?:\[\s*\])?\s*$/.exec(p.trim())?.[1] ?? '')
      .filter((p) => p && p !== 'void'),
  );
}

function splitParams(params: string): string[] {
  return params
    .slice(1, -1)
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** A macro defined twice (under #if, or in two files) is guarded only when both definitions are the same guard. */
function addGuarded(into: Record<string, GuardedMacro | null>, name: string, guard: GuardedMacro | null): void {
  const before = Object.hasOwn(into, name) ? into[name] : undefined;
  into[name] = before === undefined || JSON.stringify(before) === JSON.stringify(guard) ? guard : null;
}

/** The index just after the bracket that closes the one at `open` in masked text, or -1. */
function closing(masked: string, open: number): number {
  const pair: Record<string, string> = { '(': ')', '{': '}' };
  let depth = 0;
  for (let i = open; i < masked.length; i++) {
    if (masked[i] === masked[open]) depth++;
    else if (masked[i] === pair[masked[open]] && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * The condition of a macro body that is one `if` without `else` (`if (c) stmt`, `do { if (c) { … } } while (0)`):
 * with the condition false the macro does nothing. Null for any other body.
 */
function guardOf(body: string): string | null {
  let b = body.trim();
  const loop = /^do\s*\{([\s\S]*)\}\s*while\s*\(\s*0\s*\)$/.exec(b);
  if (loop) b = loop[1].trim().replace(/;$/, '').trim();
  const masked = maskLiterals(b);
  if (!/^if\s*\(/.test(masked)) return null;
  const open = masked.indexOf('(');
  const end = closing(masked, open);
  if (end < 0) return null;
  const rest = masked.slice(end).trim();
  if (!rest || /\belse\b/.test(rest) || /#|__VA_ARGS__/.test(masked.slice(open, end))) return null;
  // the `if`'s statement is the whole rest: one braced block, or one statement with its `;` last
  const one = rest.startsWith('{') ? closing(rest, 0) === rest.length : !/[;{}]/.test(rest.replace(/;\s*$/, ''));
  return one ? b.slice(open + 1, end - 1).trim() : null;
}
