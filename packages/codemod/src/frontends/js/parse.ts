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

function babelOptions(file: string, tokens: boolean) {
  return {
    sourceType: 'module' as const,
    allowReturnOutsideFunction: true,
    allowAwaitOutsideFunction: true,
    allowImportExportEverywhere: true,
    tokens,
    plugins: parserPlugins(file),
  };
}

/** Parses with recast over @babel/parser, so that printing keeps untouched code byte-identical. */
export function parseForRewrite(source: string, file: string): t.File {
  return withLocation(
    file,
    () =>
      recast.parse(source, {
        sourceFileName: file,
        parser: { parse: (code: string) => babelParse(code, babelOptions(file, true)) },
      }) as t.File,
  );
}

/** Throws a SourceSyntaxError if `source` does not parse; cheaper than parseForRewrite. */
export function checkSyntax(source: string, file: string): void {
  withLocation(file, () => babelParse(source, babelOptions(file, false)));
}

function withLocation<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const loc = (error as { loc?: { line: number; column: number } }).loc;
    if (loc) {
      const message = String((error as Error).message).replace(/\s*\(\d+:\d+\)$/, '');
      throw new SourceSyntaxError(file, loc.line, loc.column + 1, message);
    }
    throw error;
  }
}
