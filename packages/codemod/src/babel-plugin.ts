/**
 * `@forkexec/codemod/babel-plugin`: the fork+exec rewrite as a Babel plugin, for build-time use.
 *
 * ```js
 * // babel.config.js
 * plugins: [['@forkexec/codemod/babel-plugin', { modules: ['my-posix-shim'] }]]
 * ```
 * The sites it found are in `file.metadata.forkexec.sites` of Babel's result.
 */
import type { PluginObj, PluginPass } from '@babel/core';
import { processProgram, type JsOptions } from './frontends/js/program.js';
import type { ForkSite } from './model.js';

export interface BabelPluginOptions extends JsOptions {
  /** Called with the sites of each file, converted or not. */
  onSites?: (sites: ForkSite[], file: string) => void;
}

export interface ForkexecMetadata {
  sites: ForkSite[];
}

export default function forkexecBabelPlugin(_api: unknown, options: BabelPluginOptions = {}): PluginObj<PluginPass> {
  return {
    name: 'forkexec-codemod',
    visitor: {
      // On entry, before other plugins change the program (module transforms, TypeScript).
      Program(path, state) {
        const file = state.filename ?? 'unknown';
        const { sites } = processProgram(path, file, options, 'babel');
        (state.file.metadata as unknown as { forkexec?: ForkexecMetadata }).forkexec = { sites };
        options.onSites?.(sites, file);
      },
    },
  };
}
