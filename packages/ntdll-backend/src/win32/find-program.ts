import path from 'node:path';
import { SpawnError } from '@forkexec/core';
import { spawnHint } from '@forkexec/core/backend-kit';
import { getEnv } from './environment-block.js';

const win = path.win32;
/** Extensions of images the kernel can start; PATHEXT's others (.bat, .cmd, .js...) need an interpreter. */
const IMAGE_EXTENSIONS = new Set(['.exe', '.com']);

/** What a path names. One GetFileAttributesW call: fs.statSync opens the file, which costs more, under Wine above all. */
export type FileKind = (candidate: string) => 'file' | 'directory' | undefined;

function fail(errno: string, message: string, command: string, hint = spawnHint(errno)): never {
  throw new SpawnError(message, { errno, command, hint });
}

/** `base` as Windows tries it: as written when it has an extension, then with each PATHEXT extension. */
function candidates(base: string, extensions: string[]): string[] {
  return win.extname(base) ? [base, ...extensions.map((ext) => base + ext)] : extensions.map((ext) => base + ext);
}

/** The first existing file among the candidates, refusing scripts that need an interpreter. */
function pick(kind: FileKind, base: string, extensions: string[], file: string, command: string): string | undefined {
  for (const candidate of candidates(base, extensions)) {
    if (kind(candidate) !== 'file') continue;
    const ext = win.extname(candidate).toLowerCase();
    if (IMAGE_EXTENSIONS.has(ext)) return candidate;
    fail(
      'ENOEXEC',
      `cannot run ${JSON.stringify(file)}: ${candidate} is a ${ext} script, which Windows runs only through an interpreter`,
      command,
      'forkexec never starts a shell on its own: run the interpreter yourself (for .bat and .cmd: cmd.exe /d /s /c "...").',
    );
  }
  return undefined;
}

/**
 * Finds the program the Windows way. A name with a path part is taken relative to the child's
 * cwd; a bare name is searched in the cwd (unless NoDefaultCurrentDirectoryInExePath is set),
 * then in each PATH directory. A name without extension gets each PATHEXT extension in turn.
 */
export function findProgram(
  kind: FileKind,
  file: string,
  env: Record<string, string>,
  cwd: string,
  command: string,
): string {
  const extensions = (getEnv(env, 'PATHEXT') ?? '.COM;.EXE;.BAT;.CMD')
    .split(';')
    .filter(Boolean)
    .map((ext) => ext.toLowerCase());
  if (/[\\/]/.test(file) || /^[a-z]:/i.test(file)) {
    const base = win.resolve(cwd, file);
    const found = pick(kind, base, extensions, file, command);
    if (found) return found;
    const what = kind(base);
    if (what === 'directory') fail('EACCES', `cannot run ${JSON.stringify(file)}: ${base} is a directory`, command);
    if (what === 'file')
      fail('EACCES', `cannot run ${JSON.stringify(file)}: ${base} is not a Windows program (.exe or .com)`, command);
    fail('ENOENT', `cannot run ${JSON.stringify(file)}: ${base} does not exist`, command);
  }
  const dirs = (getEnv(env, 'PATH') ?? '')
    .split(';')
    .map((dir) => dir.replace(/^"(.*)"$/, '$1'))
    .filter(Boolean);
  const searched = getEnv(env, 'NoDefaultCurrentDirectoryInExePath') === undefined ? [cwd, ...dirs] : dirs;
  for (const dir of searched) {
    const found = pick(kind, win.resolve(cwd, dir, file), extensions, file, command);
    if (found) return found;
  }
  fail(
    'ENOENT',
    `program ${JSON.stringify(file)} not found in ${searched.join(';') || 'an empty PATH'} (extensions ${extensions.join(';')})`,
    command,
  );
}
