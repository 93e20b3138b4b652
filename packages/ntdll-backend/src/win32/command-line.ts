import { InvalidArgumentError, SpawnError } from '@forkexec/core';

/** Longest command line Windows accepts (a UNICODE_STRING of 32767 characters). */
export const MAX_COMMAND_LINE = 32767;

/**
 * One argument quoted so that CommandLineToArgvW (and the MSVC CRT) gives it back unchanged:
 * backslashes are literal unless they precede a quote, where they double.
 */
function quoteArgument(arg: string): string {
  if (arg !== '' && !/[ \t\n\v"]/.test(arg)) return arg;
  let quoted = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes++;
      continue;
    }
    quoted += ch === '"' ? `${'\\'.repeat(backslashes * 2 + 1)}"` : `${'\\'.repeat(backslashes)}${ch}`;
    backslashes = 0;
  }
  return `${quoted}${'\\'.repeat(backslashes * 2)}"`;
}

/**
 * The command line for `argv`. The program name (argv[0]) follows its own rule: it ends at the
 * first space or tab, or at the closing quote, and backslashes are never escapes there.
 */
export function buildCommandLine(argv: readonly string[], command: string): string {
  const [zero, ...args] = argv;
  if (zero.includes('"'))
    throw new InvalidArgumentError(
      `argv[0] ${JSON.stringify(zero)} contains a double quote, which a Windows command line cannot carry in the program name`,
      { command },
    );
  const line = [zero === '' || /[ \t]/.test(zero) ? `"${zero}"` : zero, ...args.map(quoteArgument)].join(' ');
  if (line.length > MAX_COMMAND_LINE)
    throw new SpawnError(
      `the command line is ${line.length} characters long; Windows accepts at most ${MAX_COMMAND_LINE}`,
      {
        errno: 'E2BIG',
        command,
        hint: 'Pass large data through stdin or a file.',
      },
    );
  return line;
}
