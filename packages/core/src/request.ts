import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isOpenInParent, MAX_FD, validateActions, type Action } from './actions.js';
import type { Backend, SpawnRequest, StdioSpec } from './backend.js';
import {
  InvalidArgumentError,
  isForkExecError,
  type ForkExecError,
  SpawnError,
  spawnHint,
  UnsupportedActionError,
} from './errors.js';
import type { Options } from './options.js';
import { childSearches, ON_WINDOWS, programProblem, resolveProgram } from './resolve-program.js';
import { describe } from './validate-options.js';

/** A string safe to hand to exec: no NUL byte, optionally non-empty. */
function checkString(value: unknown, what: string, nonEmpty = false): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string, got ${describe(value)}`);
  if (nonEmpty && value === '') throw new InvalidArgumentError(`${what} must not be empty`);
  if (value.includes('\0'))
    throw new InvalidArgumentError(`${what} contains a NUL byte at index ${value.indexOf('\0')}: ${describe(value)}`);
  // A lone UTF-16 surrogate has no UTF-8 form: Node would silently send U+FFFD instead.
  if (!value.isWellFormed())
    throw new InvalidArgumentError(`${what} contains an unpaired UTF-16 surrogate: ${describe(value)}`);
  return value;
}

/** Longest argument a command line shows whole, and the longest command line shown. */
const MAX_SHOWN_WORD = 200;
const MAX_SHOWN_COMMAND = 2000;

/** A word as a shell would read it back: quoted unless it needs no quoting; a long one elided with its length. */
function shellWord(part: unknown): string {
  const s = typeof part === 'string' ? part : describe(part);
  if (s.length > MAX_SHOWN_WORD) return `${shellWord(s.slice(0, MAX_SHOWN_WORD / 2))}…(${s.length} characters)`;
  return /^[\w./:=@%+,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The command line for messages and logs, at most about MAX_SHOWN_COMMAND characters. */
export function formatCommand(file: unknown, args: readonly unknown[]): string {
  let command = shellWord(file);
  for (let i = 0; i < args.length; i++) {
    if (command.length > MAX_SHOWN_COMMAND) return `${command} …(${args.length - i} more arguments)`;
    command += ` ${shellWord(args[i])}`;
  }
  return command;
}

/** A copy of the parent's environment as it is now. */
function parentEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  const source = process.env;
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/**
 * The child's environment, or null when it is exactly the parent's: reading process.env costs
 * about 50 us per spawn (every variable is a call into Node), so that case builds nothing.
 * Called with env or `extendEnv: false` given (buildRequest: the others cost no call).
 */
function buildEnv(options: Options): Record<string, string> | null {
  if (options.env !== undefined && (typeof options.env !== 'object' || options.env === null))
    throw new InvalidArgumentError(`option \`env\` must be an object of strings, got ${describe(options.env)}`);
  const changes = Object.entries(options.env ?? {});
  if (options.extendEnv !== false && changes.length === 0) return null;
  const env: Record<string, string> = options.extendEnv !== false ? parentEnv() : {};
  for (const [key, value] of changes) {
    if (key === '' || key.includes('=') || key.includes('\0') || !key.isWellFormed())
      throw new InvalidArgumentError(
        `env key ${describe(key)} is invalid: keys must be non-empty, well-formed, and contain no "=" or NUL byte`,
      );
    if (value === undefined) delete env[key];
    else env[key] = checkString(value, `env.${key}`);
  }
  return env;
}

function checkStdio(value: unknown, name: string): StdioSpec {
  if (value === 'pipe' || value === 'inherit' || value === 'ignore') return value;
  if (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_FD) {
    if (!isOpenInParent(value as number))
      throw new InvalidArgumentError(`${name} fd ${value} is not open in the parent`, { errno: 'EBADF' });
    return value as number;
  }
  throw new InvalidArgumentError(`${name} must be 'pipe', 'inherit', 'ignore' or an fd number, got ${describe(value)}`);
}

const STREAM_NAMES = ['stdin', 'stdout', 'stderr'] as const;

/** Stream `i` as given by its own option, else by `stdio` (`base`, `each` when an array), named after where it came from. */
function pickStdio(
  i: 0 | 1 | 2,
  own: StdioSpec | undefined,
  base: Options['stdio'],
  each: boolean,
  fallback: StdioSpec,
): StdioSpec {
  if (own !== undefined) return checkStdio(own, `option \`${STREAM_NAMES[i]}\``);
  const value = each ? (base as readonly StdioSpec[])[i] : (base as StdioSpec | undefined);
  return value === undefined ? fallback : checkStdio(value, each ? `option \`stdio\`[${i}]` : 'option `stdio`');
}

function buildStdio(options: Options): [StdioSpec, StdioSpec, StdioSpec] {
  const base = options.stdio;
  const each = Array.isArray(base);
  if (each && base.length !== 3)
    throw new InvalidArgumentError(`option \`stdio\` must be one value or an array of three, got ${describe(base)}`);
  // `{ file }` targets are fds by now: startChild opened them (withFileTargets).
  const own = options as { stdin?: StdioSpec; stdout?: StdioSpec; stderr?: StdioSpec };
  let stdio: [StdioSpec, StdioSpec, StdioSpec];
  if (!each && own.stdin === undefined && own.stdout === undefined && own.stderr === undefined) {
    // One value for all three, or none (the usual calls): checked once.
    const one = base === undefined ? undefined : checkStdio(base, 'option `stdio`');
    stdio = [one ?? (options.input === undefined ? 'ignore' : 'pipe'), one ?? 'pipe', one ?? 'pipe'];
  } else
    stdio = [
      pickStdio(0, own.stdin, base, each, options.input === undefined ? 'ignore' : 'pipe'),
      pickStdio(1, own.stdout, base, each, 'pipe'),
      pickStdio(2, own.stderr, base, each, 'pipe'),
    ];
  if (options.input !== undefined && stdio[0] !== 'pipe')
    throw new InvalidArgumentError(`option \`input\` needs stdin 'pipe', got ${describe(stdio[0])}`);
  return stdio;
}

function resolveCwd(cwd: string | URL, command: () => string): string {
  const dir = path.resolve(cwd instanceof URL ? fileURLToPath(cwd) : checkString(cwd, 'cwd', true));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new SpawnError(`cwd ${dir} does not exist`, {
      errno: 'ENOENT',
      command: command(),
      hint: 'Create the directory or pass another cwd.',
    });
  }
  if (!isDir) throw new SpawnError(`cwd ${dir} is not a directory`, { errno: 'ENOTDIR', command: command() });
  return dir;
}

/** Linux refuses one argument or variable longer than MAX_ARG_STRLEN (32 pages, NUL included). */
const MAX_ARG_STRLEN =
  process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'ia32') ? 32 * 4096 : Infinity;

/** Windows takes a command line of at most 32767 UTF-16 units (a UNICODE_STRING). */
const MAX_COMMAND_LINE = 32767;

/** Refuses a command line Windows cannot carry, naming its largest argument, before anything runs. */
function checkCommandLine(argv: string[], command: () => string): void {
  const units = argv.reduce((n, arg) => n + arg.length + 1, -1); // each argument and a separator; quoting only adds
  if (units <= MAX_COMMAND_LINE) return;
  const largest = argv.reduce((max, arg, i) => (arg.length > argv[max].length ? i : max), 0);
  throw new SpawnError(
    `the command line takes at least ${units} UTF-16 units, over the ${MAX_COMMAND_LINE} Windows accepts; ` +
      `the largest is ${largest === 0 ? 'argv0' : `args[${largest - 1}]`} (${argv[largest].length} units)`,
    { errno: 'E2BIG', command: command(), hint: spawnHint('E2BIG') },
  );
}

/** Names the argument or variable exec would refuse with E2BIG, before anything runs. */
function checkArgLengths(argv: string[], env: Record<string, string> | null, command: () => string): void {
  if (ON_WINDOWS) return checkCommandLine(argv, command);
  if (MAX_ARG_STRLEN === Infinity) return;
  for (let i = 0; i < argv.length; i++)
    if (argv[i].length >= MAY_BE_TOO_LONG && tooLong(argv[i]))
      refuseLength(i === 0 ? 'argv0' : `args[${i - 1}]`, argv[i], command);
  // The parent's own environment is not read here (see buildEnv): exec's E2BIG is explained afterwards.
  for (const key in env) {
    const value = env[key];
    // Length first: building every "key=value" string would cost more than the check itself.
    if (key.length + value.length + 1 >= MAY_BE_TOO_LONG && tooLong(`${key}=${value}`))
      refuseLength(`env.${key}`, `${key}=${value}`, command);
  }
}

/** A UTF-16 unit takes at most 3 bytes: a string shorter than this fits, and is not measured (tooLong). */
const MAY_BE_TOO_LONG = MAX_ARG_STRLEN / 3;

/** Whether exec would refuse `s`, one of at least MAY_BE_TOO_LONG units, as one argument or variable. */
function tooLong(s: string): boolean {
  return Buffer.byteLength(s) + 1 > MAX_ARG_STRLEN;
}

function refuseLength(what: string, s: string, command: () => string): never {
  throw new SpawnError(
    `${what} is ${Buffer.byteLength(s)} bytes: exec takes at most ${MAX_ARG_STRLEN - 1} per argument or variable`,
    { errno: 'E2BIG', command: command(), hint: 'Pass data this large through stdin (option `input`) or a file.' },
  );
}

/** The index of the first action `backend` cannot carry out, or -1. */
export function firstUnsupportedAction(backend: Backend, actions: readonly Action[]): number {
  return actions.findIndex((action) => !backend.capabilities.actions.includes(action.op));
}

/** Refuses actions the backend cannot carry out exactly, naming the backends that can. */
function checkSupported(
  backend: Backend,
  actions: Action[],
  command: () => string,
  alternatives: (op: Action['op']) => string[],
): void {
  const index = firstUnsupportedAction(backend, actions);
  if (index < 0) return;
  const { op } = actions[index];
  const others = alternatives(op).filter((name) => name !== backend.name);
  throw new UnsupportedActionError(index, `the ${backend.name} backend cannot carry out ${op}`, {
    command: command(),
    hint: others.length
      ? `Backends that can: ${others.join(', ')} (option \`backend\`).`
      : 'No installed backend supports it on this platform.',
  });
}

/** Validates the caller's input and turns it into the request `backend` receives. */
export function buildRequest(
  file: unknown,
  args: unknown,
  options: Options,
  backend: Backend,
  alternatives: (op: Action['op']) => string[],
): SpawnRequest {
  checkString(file, 'file (the program to run)', true);
  if (!Array.isArray(args)) throw new InvalidArgumentError(`args must be an array of strings, got ${describe(args)}`);
  for (let i = 0; i < args.length; i++) checkString(args[i], `args[${i}]`);
  const argv0 = options.argv0 === undefined ? (file as string) : checkString(options.argv0, 'argv0');
  const argv = [argv0, ...(args as string[])]; // a copy: the caller may change its array afterwards
  // Formatted only when read (an error, the result): the quoting costs more than the rest of a check.
  let formatted: string | undefined;
  const command = () => (formatted ??= formatCommand(file as string, argv.slice(1)));
  const env = options.env === undefined && options.extendEnv !== false ? null : buildEnv(options);
  const stdio = buildStdio(options);
  // Guarded here, the options most calls leave out cost no call each (a cold call costs about 0.5 us).
  const cwd = options.cwd === undefined ? undefined : resolveCwd(options.cwd, command);

  const userActions = options.actions === undefined ? [] : validateActions(options.actions);
  if (userActions.length) checkSupported(backend, userActions, command, alternatives);
  let actions = userActions;
  if (options.detached) {
    if (!backend.capabilities.actions.includes('setsid'))
      throw new InvalidArgumentError(`detached needs setsid, which the ${backend.name} backend cannot do`, {
        command: command(),
      });
    actions = [{ op: 'setsid' }, ...actions];
  }
  if (cwd !== undefined) actions = [{ op: 'chdir', path: cwd }, ...actions];

  const searchPath = options.searchPath !== false;
  // A bare name the child can search for costs no stat per PATH directory here (see BackendCapabilities.searchesPath).
  const childSearch = !(file as string).includes('/') && childSearches(file as string, env, backend, searchPath);
  const program = childSearch
    ? (file as string)
    : resolveProgram(file as string, env, actions, searchPath, command, backend.capabilities.exactExec);
  checkArgLengths(argv, env, command);
  return new CoreRequest(program, childSearch, argv, env, actions, stdio, command);
}

/**
 * The request core hands a backend. What costs and is often not read is made on first read: the
 * copy of process.env for a child that inherits it, the command line for messages.
 */
class CoreRequest implements SpawnRequest {
  readonly inheritsEnv: boolean;
  #env: Record<string, string> | null;
  readonly #command: () => string;

  constructor(
    readonly file: string,
    readonly searchPath: boolean,
    readonly argv: string[],
    env: Record<string, string> | null,
    readonly actions: Action[],
    readonly stdio: [StdioSpec, StdioSpec, StdioSpec],
    command: () => string,
  ) {
    this.inheritsEnv = env === null;
    this.#env = env;
    this.#command = command;
  }

  get env(): Record<string, string> {
    return (this.#env ??= parentEnv());
  }

  get command(): string {
    return this.#command();
  }
}

/** What exec refuses for the program itself (not for an action): the file changed since core checked it. */
const PROGRAM_ERRNOS = new Set(['ENOENT', 'EACCES', 'ENOEXEC', 'ENOTDIR', 'ELOOP']);

/**
 * A backend's failure to start the child, retold when core can say more: an E2BIG with the sizes,
 * a program exec refused with why (a fresh check of the file).
 */
export function explainFailure(error: unknown, request: SpawnRequest): unknown {
  if (!isForkExecError(error) || error.code !== 'FORKEXEC_SPAWN' || !error.errno) return error;
  if (error.errno === 'E2BIG') return explainE2big(error, request);
  if (error.actionIndex !== undefined) return explainActionFailure(error, request);
  if (!PROGRAM_ERRNOS.has(error.errno) || ON_WINDOWS) return error;
  return programProblem(request, error) ?? error;
}

/** An action the child could not carry out, retold with the path it worked on and advice for that action. */
function explainActionFailure(e: ForkExecError, request: SpawnRequest): ForkExecError {
  const action = request.actions[e.actionIndex!];
  if (!action || !e.errno) return e;
  let message = e.message.split('\n')[0];
  if ('path' in action && !message.includes(action.path)) {
    const named = `(${action.op} ${describe(action.path)})`;
    message = message.includes(`(${action.op})`) ? message.replace(`(${action.op})`, named) : `${message} ${named}`;
  }
  // A backend's advice for these errnos is about the program, which is not what failed here.
  const hint = actionHint(action, e.errno) ?? (PROGRAM_ERRNOS.has(e.errno) ? undefined : e.hint);
  return new SpawnError(message, {
    errno: e.errno,
    actionIndex: e.actionIndex,
    command: request.command,
    hint,
    cause: e,
  });
}

/** Advice for an action that failed with `errno`, where the errno alone would mislead. */
function actionHint(action: Action, errno: string): string | undefined {
  switch (`${action.op} ${errno}`) {
    case 'open ENOENT':
      return "The file or a folder on its path does not exist: create it, or open it with flags that create it ('w', 'a').";
    case 'open EACCES':
    case 'chdir EACCES':
      return "This user may not reach it: check its mode and its folders' with `ls -ld`.";
    case 'open EISDIR':
      return 'It is a folder: name a file, or open the folder read-only.';
    case 'open EEXIST':
      return "It exists and the flags say it must not (an 'x' flag, O_EXCL).";
    case 'chdir ENOENT':
      return 'The folder does not exist (any more): create it, or pass another.';
    case 'chdir ENOTDIR':
      return 'It is not a folder, or a part of its path is not.';
  }
  return errno === 'EPERM'
    ? `${action.op} needs privileges this process does not have (root or a capability).`
    : undefined;
}

/** An E2BIG from exec, retold with the sizes of the arguments and environment and the largest of them. */
function explainE2big(e: ForkExecError, request: SpawnRequest): SpawnError {
  const sizes = [
    ...request.argv.map((arg, i) => [i === 0 ? 'argv0' : `args[${i - 1}]`, Buffer.byteLength(arg) + 1] as const),
    ...Object.entries(request.env).map(
      ([key, value]) => [`env.${key}`, Buffer.byteLength(key) + Buffer.byteLength(value) + 2] as const,
    ),
  ];
  const argBytes = sizes.slice(0, request.argv.length).reduce((n, [, size]) => n + size, 0);
  const envBytes = sizes.slice(request.argv.length).reduce((n, [, size]) => n + size, 0);
  const [largest, largestSize] = sizes.reduce((a, b) => (b[1] > a[1] ? b : a));
  return new SpawnError(
    `${e.message.split('\n')[0]}: the ${request.argv.length} arguments take ${argBytes} bytes and the ` +
      `${sizes.length - request.argv.length} environment variables ${envBytes} bytes, together over the kernel's ` +
      `ARG_MAX; the largest is ${largest} (${largestSize} bytes)`,
    { errno: 'E2BIG', command: request.command, actionIndex: e.actionIndex, hint: spawnHint('E2BIG'), cause: e },
  );
}
