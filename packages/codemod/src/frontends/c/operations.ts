// Names of the calls a fork site is made of, and the operation category each child-side call counts as.

export const FORK_CALLS = new Set(['fork', 'vfork', 'forkpty', '__fork', 'rfork']);

export const EXEC_CALLS = new Set([
  'execv',
  'execvp',
  'execve',
  'execvpe',
  'execl',
  'execlp',
  'execle',
  'fexecve',
  'execveat',
  'execvP',
]);

export const EXIT_CALLS = new Set(['_exit', 'exit', '_Exit', 'abort']);

/** Well-known functions that never return, beside the exits: the err family, assertion failures, thread exit. */
export const NORETURN_CALLS = new Set([
  'err',
  'errx',
  'verr',
  'verrx',
  'errc',
  'verrc',
  '__assert_fail',
  'pthread_exit',
  'quick_exit',
  'longjmp',
  'siglongjmp',
]);

/** Memory-only calls whose first argument is the buffer they write. */
export const STRING_WRITES = ['snprintf', 'sprintf', 'strcpy', 'strncpy', 'strcat', 'strncat', 'memcpy', 'memset'];

const CATEGORIES: [string, string[]][] = [
  ['dup2', ['dup2', 'dup3', 'dup']],
  ['close', ['close']],
  ['closefrom', ['closefrom', 'close_range', 'closeall', 'close_all_fds', 'fdwalk']],
  ['open', ['open', 'openat', 'creat', 'fopen', 'freopen', 'pipe', 'socket']],
  [
    'log',
    [
      'printf',
      'fprintf',
      'vfprintf',
      'dprintf',
      'puts',
      'fputs',
      'fputc',
      'putc',
      'perror',
      'syslog',
      'vsyslog',
      'err',
      'errx',
      'warn',
      'warnx',
      'verr',
      'vwarn',
      'write',
      'fwrite',
      'fflush',
      'debug',
      'error',
      'log_debug',
      'log_error',
      'log_warn',
      'log_info',
    ],
  ],
  ['exit', [...EXIT_CALLS]],
  ['signal', ['signal', 'sigaction', 'bsd_signal', 'sigset']],
  ['sigmask', ['sigprocmask', 'pthread_sigmask', 'sigsetmask', 'sigblock', 'sigrelse', 'sighold']],
  ['setsid', ['setsid']],
  [
    'malloc',
    [
      'malloc',
      'calloc',
      'realloc',
      'strdup',
      'strndup',
      'asprintf',
      'vasprintf',
      'xmalloc',
      'xcalloc',
      'xstrdup',
      'xasprintf',
      'reallocarray',
      ...STRING_WRITES,
    ],
  ],
  [
    'credentials',
    [
      'setuid',
      'setgid',
      'seteuid',
      'setegid',
      'setreuid',
      'setregid',
      'setresuid',
      'setresgid',
      'setgroups',
      'initgroups',
      'setlogin',
      'setusercontext',
      'cap_set_proc',
    ],
  ],
  ['tty', ['tcsetpgrp', 'ioctl', 'login_tty', 'ttyname', 'tcsetattr', 'grantpt', 'unlockpt']],
  ['chdir', ['chdir', 'fchdir']],
  ['env', ['setenv', 'unsetenv', 'putenv', 'clearenv']],
  ['setpgid', ['setpgid', 'setpgrp']],
  ['rlimit', ['setrlimit', 'prlimit']],
  ['prctl', ['prctl']],
  ['namespaces', ['unshare', 'setns', 'mount', 'pivot_root']],
  ['chroot', ['chroot']],
  ['umask', ['umask']],
  ['nice', ['nice', 'setpriority']],
];

const CATEGORY_OF = new Map(
  CATEGORIES.flatMap(([category, names]) => names.map((name): [string, string] => [name, category])),
);

/** The operation category of a call in a child, or null for calls that are not child-side operations. */
export function operationOf(name: string): string | null {
  if (EXEC_CALLS.has(name) || FORK_CALLS.has(name)) return null;
  return CATEGORY_OF.get(name) ?? null;
}
