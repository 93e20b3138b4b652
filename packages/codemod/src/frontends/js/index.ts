/** The JS/TS frontend: Babel's parser and scope analysis, recast to keep untouched code byte-identical. */
import * as recast from 'recast';
import type { Frontend, TransformResult } from '../../model.js';
import { checkSyntax, parseForRewrite } from './parse.js';
import { processProgram, type JsOptions } from './program.js';
import type { RawSourceMap } from 'source-map';
import { stripRemovedCases } from './strip-removed-cases.js';
import { programPath } from './traverse.js';

export { SourceSyntaxError } from './parse.js';
export { POSIX_MODULE, processProgram, type JsOptions } from './program.js';

export const JS_EXTENSIONS = ['.js', '.mjs', '.cjs', '.jsx', '.ts', '.mts', '.cts', '.tsx'];

export interface JsFrontend extends Frontend {
  scan(source: string, file: string): ReturnType<typeof processProgram>['sites'];
  transform(source: string, file: string): TransformResult;
}

export function createJsFrontend(options: JsOptions = {}): JsFrontend {
  return {
    language: 'js',
    extensions: JS_EXTENSIONS,
    scan(source, file) {
      if (!source.includes('fork')) {
        checkSyntax(source, file);
        return [];
      }
      return processProgram(programPath(parseForRewrite(source, file)), file, options, false).sites;
    },
    transform(source, file) {
      // Without the word, no site: only the syntax is checked, without recast's copy of the tree.
      if (!source.includes('fork')) {
        checkSyntax(source, file);
        return { code: source, changed: false, sites: [] };
      }
      const ast = parseForRewrite(source, file);
      const { sites, changed } = processProgram(programPath(ast), file, options, 'recast');
      if (!changed) return { code: source, changed: false, sites };
      const printed = recast.print(ast, { sourceMapName: `${file}.map`, quote: 'single' });
      const { code, map } = stripRemovedCases(printed.code, printed.map as RawSourceMap);
      return { code, changed: code !== source, sites, map };
    },
  };
}

/** The frontend with the default options (only `@forkexec/core/posix` counts). */
export const jsFrontend = createJsFrontend();
