import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Language, Parser } from 'web-tree-sitter';
import type { Tree } from './syntax-tree.js';

// tree-sitter's runtime and the C grammar are wasm: loaded once per thread, on first use. The grammar is read as
// bytes: given a path, web-tree-sitter imports node:fs dynamically, which Jest's CommonJS runtime refuses.
let ready: Promise<Parser> | undefined;

async function load(): Promise<Parser> {
  const resolve = createRequire(import.meta.url).resolve;
  await Parser.init();
  const language = await Language.load(readFileSync(resolve('tree-sitter-c/tree-sitter-c.wasm')));
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

function cParser(): Promise<Parser> {
  ready ??= load();
  return ready;
}

/** Parses C source; the caller must `tree.delete()` when done (wasm memory is not garbage collected). */
export async function parseC(source: string): Promise<Tree> {
  const parser = await cParser();
  const tree = parser.parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}
