import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Language, Parser } from 'web-tree-sitter';
import type { Tree } from './syntax-tree.js';

// tree-sitter's runtime and the grammars are wasm: loaded once per thread, on first use. A grammar is read as
// bytes: given a path, web-tree-sitter imports node:fs dynamically, which Jest's CommonJS runtime refuses.
const ready = new Map<string, Promise<Parser>>();
// the runtime once per thread: two grammars loading at once must not initialise it twice (its memory breaks)
let runtime: Promise<void> | undefined;

async function load(wasm: string): Promise<Parser> {
  const resolve = createRequire(import.meta.url).resolve;
  runtime ??= Parser.init();
  await runtime;
  const language = await Language.load(readFileSync(resolve(wasm)));
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

async function parseWith(wasm: string, source: string): Promise<Tree> {
  if (!ready.has(wasm)) ready.set(wasm, load(wasm));
  const parser = await ready.get(wasm)!;
  const tree = parser.parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

/** Parses C source; the caller must `tree.delete()` when done (wasm memory is not garbage collected). */
export function parseC(source: string): Promise<Tree> {
  return parseWith('tree-sitter-c/tree-sitter-c.wasm', source);
}

/** Parses C++ source with tree-sitter-cpp; the caller must `tree.delete()` when done. */
export function parseCpp(source: string): Promise<Tree> {
  return parseWith('tree-sitter-cpp/tree-sitter-cpp.wasm', source);
}
