/// <reference types="emscripten" preserve="true" />
// The tree-sitter types the C frontend uses. web-tree-sitter's declarations name the global EmscriptenModule of
// @types/emscripten without referencing it: the reference above carries it into this package's declarations, so a
// consumer type-checking with skipLibCheck: false (and TypeScript 6's empty default `types`) resolves it.
export type { Node, Tree } from 'web-tree-sitter';
