import * as traverseModule from '@babel/traverse';
import type { NodePath } from '@babel/traverse';
import type * as t from '@babel/types';

type Traverse = typeof traverseModule.default.default;
// @babel/traverse is CommonJS: under Node's ESM loader its default import is the module object.
const loaded = traverseModule.default as unknown as Traverse | { default: Traverse };
const traverse: Traverse = typeof loaded === 'function' ? loaded : loaded.default;

/** The Program path of a parsed file. */
export function programPath(ast: t.File): NodePath<t.Program> {
  let program: NodePath<t.Program> | undefined;
  traverse(ast, {
    Program(path) {
      program = path;
      path.stop();
    },
  });
  return program!;
}
