/**
 * `@forkexec/codemod/babel-plugin`: the fork+exec rewrite as a Babel plugin, for build-time use.
 *
 * ```js
 * // babel.config.js
 * plugins: [['@forkexec/codemod/babel-plugin', { modules: ['my-posix-shim'] }]]
 * ```
 * The sites it found are in `file.metadata.forkexec.sites` of Babel's result. A site it leaves is a
 * warning on stderr, as with the Rollup plugin, or with `failOnUnconverted` a build error; so is a
 * rewritten site whose actions not every backend carries out (umask, credentials: helper-exe only).
 */
import type { PluginObj, PluginPass } from '@babel/core';
import { processProgram, type JsOptions } from './frontends/js/program.js';
import { describeNote, describeSite, type ForkSite } from './model.js';

export interface BabelPluginOptions extends JsOptions {
  /** Called with the sites of each file, converted or not. */
  onSites?: (sites: ForkSite[], file: string) => void;
  /** Make an unconverted fork site a build error instead of a warning. */
  failOnUnconverted?: boolean;
  /** Where the warning about a site left unconverted goes (default console.warn); false: nowhere. */
  warn?: ((message: string) => void) | false;
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
        const warn = options.warn === false ? undefined : (options.warn ?? console.warn);
        for (const site of sites) {
          if (site.converted) {
            if (site.note) warn?.(`forkexec: fork() rewritten, but ${describeNote(site)}`);
            continue;
          }
          const message = `fork() not rewritten: ${describeSite(site)}`;
          if (options.failOnUnconverted) {
            const at = { line: site.line, column: site.column - 1 };
            throw path.hub.buildError({ type: 'Noop', loc: { start: at, end: at } } as never, message, Error);
          }
          warn?.(`forkexec: ${message}`);
        }
      },
    },
  };
}
