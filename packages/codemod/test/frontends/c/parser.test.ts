import { parseC, parseCpp } from '../../../src/frontends/c/parser.js';

// Both grammars on one tree-sitter runtime: loaded at once (a C++ file or header parses with both), the runtime is
// initialised once; twice, its memory broke ("memory access out of bounds" in Language.load).
test('the C and C++ grammars load at once, on a fresh runtime', async () => {
  const trees = await Promise.all([parseC('int x;'), parseCpp('int y;'), parseC('int z;'), parseCpp('int w;')]);
  expect(trees.map((t) => t.rootNode.type)).toEqual(Array(4).fill('translation_unit'));
  expect(trees.map((t) => t.rootNode.hasError)).toEqual([false, false, false, false]);
  for (const t of trees) t.delete();
});
