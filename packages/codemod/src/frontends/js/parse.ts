import { parse as babelParse, type ParserPlugin } from '@babel/parser';
import type * as t from '@babel/types';
import * as recast from 'recast';

/** A syntax error in an input file, with where it is. */
export class SourceSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super(`${file}:${line}:${column}: ${message}`);
    this.name = 'SourceSyntaxError';
  }
}

const TS = /\.[cm]?tsx?$/i;

/** Babel parser plugins for a file, by its ending: TypeScript for .ts/.mts/.cts, JSX for .tsx and plain JS. */
export function parserPlugins(file: string): ParserPlugin[] {
  if (TS.test(file)) return /x$/i.test(file) ? ['typescript', 'jsx'] : ['typescript'];
  return ['jsx'];
}

/** Parses with recast over @babel/parser, so that printing keeps untouched code byte-identical. */
export function parseForRewrite(source: string, file: string): t.File {
  const plugins = parserPlugins(file);
  try {
    return recast.parse(source, {
      sourceFileName: file,
      parser: {
        parse: (code: string) =>
          babelParse(code, {
            sourceType: 'module',
            allowReturnOutsideFunction: true,
            allowAwaitOutsideFunction: true,
            allowImportExportEverywhere: true,
            tokens: true,
            plugins,
          }),
      },
    }) as t.File;
  } catch (error) {
    const loc = (error as { loc?: { line: number; column: number } }).loc;
    if (loc) {
      const message = String((error as Error).message).replace(/\s*\(\d+:\d+\)$/, '');
      throw new SourceSyntaxError(file, loc.line, loc.column + 1, message);
    }
    throw error;
  }
}
