/** The files a codemod run covers: named files as given, folders and globs expanded, .gitignore respected. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import * as ignoreModule from 'ignore';
import type { Ignore } from 'ignore';

// `ignore` is CommonJS: depending on the loader its function is the module or its `default`.
type CreateIgnore = () => Ignore;
const loaded = ignoreModule as unknown as CreateIgnore & { default?: CreateIgnore | { default: CreateIgnore } };
const createIgnore: CreateIgnore =
  typeof loaded.default === 'function'
    ? loaded.default
    : typeof loaded.default?.default === 'function'
      ? loaded.default.default
      : loaded;

const ALWAYS_SKIPPED = ['**/node_modules/**', '**/.git/**'];

interface FoundFiles {
  /** Absolute paths, sorted, without duplicates. */
  files: string[];
  /** Inputs that named nothing: neither a file, a folder, nor a glob with matches. */
  missing: string[];
  /** The files named as such (processed even if ignored, reported even without a frontend). */
  explicit: Set<string>;
}

/** The folder holding `.git` above `from`, or `from` itself. */
function repositoryRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) return from;
  }
}

/** Answers "is this file ignored by some .gitignore between the repository root and it?". */
class GitIgnores {
  private readonly cache = new Map<string, Ignore | null>();

  constructor(private readonly root: string) {}

  private rulesOf(dir: string): Ignore | null {
    if (!this.cache.has(dir)) {
      const file = path.join(dir, '.gitignore');
      this.cache.set(dir, existsSync(file) ? createIgnore().add(readFileSync(file, 'utf8')) : null);
    }
    return this.cache.get(dir)!;
  }

  ignores(file: string): boolean {
    const inside = path.relative(this.root, file);
    if (inside.startsWith('..') || path.isAbsolute(inside)) return false;
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
      const rules = this.rulesOf(dir);
      if (rules?.ignores(path.relative(dir, file))) return true;
      if (dir === this.root || path.dirname(dir) === dir) return false;
    }
  }
}

export async function findFiles(inputs: string[], cwd: string, extensions: string[]): Promise<FoundFiles> {
  const ignores = new GitIgnores(repositoryRoot(path.resolve(cwd)));
  const pattern = `**/*.{${extensions.map((e) => e.replace(/^\./, '')).join(',')}}`;
  const files = new Set<string>();
  const missing: string[] = [];
  const explicit = new Set<string>();
  for (const input of inputs) {
    const absolute = path.resolve(cwd, input);
    const kind = existsSync(absolute) ? statSync(absolute) : null;
    if (kind?.isFile()) {
      files.add(absolute);
      explicit.add(absolute);
      continue;
    }
    const found = kind?.isDirectory()
      ? await fg(pattern, {
          cwd: absolute,
          absolute: true,
          ignore: ALWAYS_SKIPPED,
          dot: false,
          followSymbolicLinks: false,
        })
      : await fg(input, { cwd, absolute: true, ignore: ALWAYS_SKIPPED, onlyFiles: true });
    const kept = found
      .map((f) => path.normalize(f))
      .filter((f) => !ignores.ignores(f) && (kind || extensions.some((e) => f.toLowerCase().endsWith(e))));
    if (!kind && kept.length === 0) missing.push(input);
    kept.forEach((f) => files.add(f));
  }
  return { files: [...files].sort(), missing, explicit };
}
