import { createRequire } from 'node:module';
import { Language, Parser, type Tree } from 'web-tree-sitter';

// tree-sitter's runtime and the C grammar are wasm: loaded once per thread, on first use.
let ready: Promise<Parser> | undefined;

async function load(): Promise<Parser> {
  const require = createRequire(import.meta.url);
  await Parser.init();
  const language = await Language.load(require.resolve('tree-sitter-c/tree-sitter-c.wasm'));
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

export function cParser(): Promise<Parser> {
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
