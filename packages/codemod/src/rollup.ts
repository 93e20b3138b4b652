/**
 * `@forkexec/codemod/rollup`: rewrites fork()+exec*() pairs while Rollup loads each module,
 * with a source map. Put it before plugins that compile the code (TypeScript, Babel).
 *
 * ```js
 * import forkexec from '@forkexec/codemod/rollup';
 * export default { input: 'src/main.js', plugins: [forkexec()] };
 * ```
 */
import { createJsFrontend, JS_EXTENSIONS, SourceSyntaxError, type JsOptions } from './frontends/js/index.js';
import { describeNote, describeSite, type ForkSite } from './model.js';

export interface RollupPluginOptions extends JsOptions {
  /** Files to transform; default: every JS/TS module outside node_modules. */
  include?: (id: string) => boolean;
  /** Make an unconverted fork site a build error instead of a warning. */
  failOnUnconverted?: boolean;
  /** Called with the sites of each module that has any. */
  onSites?: (sites: ForkSite[], id: string) => void;
}

interface Loc {
  line: number;
  column: number;
}

/** The subset of Rollup's plugin context this plugin uses. */
interface TransformContext {
  warn(warning: { message: string; id?: string; loc?: Loc & { file?: string } }): void;
  error(error: { message: string; id?: string; loc?: Loc & { file?: string } }): never;
}

export interface ForkexecRollupPlugin {
  name: string;
  transform(this: TransformContext, code: string, id: string): { code: string; map: unknown } | null;
}

const defaultInclude = (id: string) =>
  !id.startsWith('\0') && !id.includes('/node_modules/') && JS_EXTENSIONS.some((ext) => id.split('?')[0].endsWith(ext));

export default function forkexec(options: RollupPluginOptions = {}): ForkexecRollupPlugin {
  const frontend = createJsFrontend(options);
  const include = options.include ?? defaultInclude;
  return {
    name: 'forkexec-codemod',
    transform(code, id) {
      if (!include(id) || !code.includes('fork')) return null;
      const file = id.split('?')[0];
      let result;
      try {
        result = frontend.transform(code, file);
      } catch (error) {
        if (error instanceof SourceSyntaxError)
          this.error({ message: error.message, id, loc: { file, line: error.line, column: error.column - 1 } });
        throw error;
      }
      if (result.sites.length) options.onSites?.(result.sites, id);
      for (const site of result.sites) {
        if (site.converted) {
          const loc = { file, line: site.line, column: site.column - 1 };
          if (site.note) this.warn({ message: `fork() rewritten, but ${describeNote(site)}`, id, loc });
          continue;
        }
        const warning = {
          message: `fork() not rewritten: ${describeSite(site)}`,
          id,
          loc: { file, line: site.line, column: site.column - 1 },
        };
        if (options.failOnUnconverted) this.error(warning);
        this.warn(warning);
      }
      return result.changed ? { code: result.code, map: result.map } : null;
    },
  };
}
