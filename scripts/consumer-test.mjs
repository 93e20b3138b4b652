// The packages as a consumer gets them: `npm pack` of every workspace package (after `npm run build`), the
// tarballs installed into blank projects outside the repository (no workspace links; npm's overrides point the
// packages' own @forkexec dependencies at the tarballs, everything else comes from the registry), then ESM,
// CommonJS, TypeScript, C and CLI programs that use them as their READMEs say. Prints the tarball and install sizes.
// Usage: node scripts/consumer-test.mjs [--keep]   (--keep leaves the temporary folder for a look)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const keep = process.argv.includes('--keep');
const started = Date.now();
const work = mkdtempSync(path.join(tmpdir(), 'forkexec-consumer-'));
const tarballs = path.join(work, 'tarballs');
let failures = 0;

function run(file, args, { cwd, env, allowFailure = false } = {}) {
  const result = spawnSync(file, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (!allowFailure && (result.status !== 0 || result.error))
    throw new Error(`${file} ${args.join(' ')} failed (${result.status}):\n${result.stdout}${result.stderr}`);
  return result;
}

function check(what, fn) {
  try {
    const detail = fn();
    console.log(`  ok   ${what}${detail ? `: ${detail}` : ''}`);
  } catch (error) {
    failures++;
    console.log(`  FAIL ${what}\n${String(error.message ?? error).replace(/^/gm, '       ')}`);
  }
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const duKib = (dir) => Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]);
/** The install size of a project: KiB on disk and the number of packages. */
const installSize = (dir) => {
  const packages = run('npm', ['ls', '--all', '--parseable'], { cwd: dir, allowFailure: true })
    .stdout.trim()
    .split('\n');
  return `${duKib(path.join(dir, 'node_modules'))} KiB, ${packages.length - 1} packages`;
};

/**
 * A blank project `name` that depends on the tarballs of `direct` (and on `devDependencies` from the registry), with
 * every @forkexec dependency of those packages resolved to its tarball too (npm's overrides), then installed.
 */
function project(name, { direct, devDependencies = {}, flags = [], type = 'commonjs' }) {
  const dir = path.join(work, name);
  mkdirSync(dir);
  const dependencies = Object.fromEntries(direct.map((n) => [n, `file:${tarball(n)}`]));
  const overrides = Object.fromEntries(
    packed.map((p) => [p.name, direct.includes(p.name) ? `$${p.name}` : `file:${p.file}`]),
  );
  const manifest = { name: `consumer-${name}`, private: true, type, dependencies, devDependencies, overrides };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...flags], { cwd: dir });
  return dir;
}

const tarball = (name) => packed.find((p) => p.name === name).file;

// 1. Pack. helper-exe's prepack builds every shipped platform and fails the pack when one cannot be built.
console.log(`packing into ${tarballs}`);
mkdirSync(tarballs);
const packJson = run('npm', ['pack', '--workspaces', '--json', '--pack-destination', tarballs, '--loglevel=error'], {
  cwd: repo,
}).stdout;
const packed = JSON.parse(packJson.slice(packJson.indexOf('['))).map((p) => ({
  name: p.name,
  file: path.join(tarballs, p.filename),
  size: p.size,
  unpackedSize: p.unpackedSize,
  files: p.files.map((f) => f.path),
}));
for (const p of packed)
  console.log(`  ${p.name}: ${kib(p.size)} packed, ${kib(p.unpackedSize)} unpacked, ${p.files.length} files`);

check('no build leftovers or repository-only scripts in the tarballs', () => {
  const stray = packed.flatMap((p) =>
    p.files.filter((f) =>
      /tsbuildinfo|wine|(^|\/)test\/|\.test\.|^scripts\/(?!build-native\.mjs$)|^dist\/fxprobe$|^dist\/native\//.test(f),
    ),
  );
  if (stray.length) throw new Error(stray.join('\n'));
});
check('a LICENSE and a README in every tarball', () => {
  const lacking = packed.filter((p) => !p.files.includes('LICENSE') || !p.files.includes('README.md'));
  if (lacking.length) throw new Error(lacking.map((p) => p.name).join(', '));
});
check('helper-exe holds every shipped platform', () => {
  const files = packed.find((p) => p.name === '@forkexec/helper-exe').files;
  const wanted = ['linux-x64/fxhelper', 'linux-x64/libfxtake.so', 'linux-arm64/fxhelper', 'linux-arm64/libfxtake.so'];
  const missing = [...wanted, 'win32-x64/fxhelper.exe'].filter((f) => !files.includes(`dist/${f}`));
  if (missing.length) throw new Error(`missing: ${missing.join(', ')}`);
});
check('ntdll-backend holds its clone library (linux-x64; prepack fails when it cannot be built)', () => {
  const files = packed.find((p) => p.name === '@forkexec/ntdll-backend').files;
  if (!files.includes('dist/linux-x64/libfxclone.so')) throw new Error('missing: dist/linux-x64/libfxclone.so');
});

const bin = (name) => path.join(repo, 'node_modules', '.bin', name);
for (const p of packed) {
  check(`publint ${p.name}`, () => {
    const dir = path.join(tarballs, p.name.replace('/', '+'));
    mkdirSync(dir);
    run('tar', ['-xzf', p.file, '-C', dir]);
    const out = run(bin('publint'), ['--pack', 'false', '--strict', path.join(dir, 'package')]).stdout;
    return /Warnings|Errors/.test(out) ? out : 'clean';
  });
  check(`attw ${p.name}`, () => {
    run(bin('attw'), [p.file, '--format', 'ascii']);
    return 'no problems';
  });
}

// 2. `npm install @forkexec/core` alone: the fast path.
console.log('\nnpm install @forkexec/core');
const coreOnly = project('core-only', { direct: ['@forkexec/core'], type: 'module' });
console.log(`  installed: ${installSize(coreOnly)}`);
check('auto picks ntdll (core brings @forkexec/ntdll-backend as an optional dependency)', () => {
  const script = `import { forkBeforeExec } from '@forkexec/core';
    const r = await forkBeforeExec('node', ['-e', 'process.exit(0)']); console.log(r.backend);`;
  const backend = run('node', ['--input-type=module', '-e', script], { cwd: coreOnly }).stdout.trim();
  if (process.platform === 'linux' && backend !== 'ntdll') throw new Error(`auto picked ${backend}`);
  return backend;
});
check('the installed ntdll backend starts children by clone on linux-x64, and a failed exec is typed', () => {
  const script = `import { forkBeforeExec } from '@forkexec/core';
    import { backend } from '@forkexec/ntdll-backend';
    const error = await forkBeforeExec('/no/such/program', [], { backend }).catch((e) => e);
    console.log(JSON.stringify({ clone: backend.capabilities.pidBeforeExec, detail: backend.probe().detail, errno: error.errno }));`;
  const out = JSON.parse(run('node', ['--input-type=module', '-e', script], { cwd: coreOnly }).stdout);
  if (out.errno !== 'ENOENT') throw new Error(JSON.stringify(out));
  if (process.platform === 'linux' && process.arch === 'x64' && !out.clone) throw new Error(JSON.stringify(out));
  return out.clone ? 'clone' : 'posix_spawn';
});

console.log('\nnpm install --omit=optional @forkexec/core');
const noOptional = project('no-optional', { direct: ['@forkexec/core'], type: 'module', flags: ['--omit=optional'] });
check('a built-in backend that is not installed names its package', () => {
  const script = `import { forkBeforeExec } from '@forkexec/core';
    await forkBeforeExec('true', [], { backend: 'ntdll' }).catch((e) => console.log(e.message));`;
  const out = run('node', ['--input-type=module', '-e', script], { cwd: noOptional }).stdout;
  if (
    !/needs the package @forkexec\/ntdll-backend, which is not installed\nInstall it: npm install @forkexec\/ntdll-backend/.test(
      out,
    )
  )
    throw new Error(out);
});

// 3. Everything, as an application uses it.
console.log('\nnpm install @forkexec/core @forkexec/helper-exe @forkexec/codemod @forkexec/cli');
const app = project('app', {
  direct: ['@forkexec/core', '@forkexec/helper-exe', '@forkexec/codemod', '@forkexec/cli'],
  devDependencies: { typescript: '~6.0.3', '@types/node': '^20.19.43', '@babel/core': '^7.29.13', rollup: '^4.68.8' },
});

const failingOpen = `[{ op: 'open', fd: 5, path: '/nonexistent/forkexec/file', flags: 'r' }]`;
writeFileSync(
  path.join(app, 'esm.mjs'),
  `import { forkBeforeExec, forkBeforeExecSync, SpawnError, isForkExecError } from '@forkexec/core';
const out = {};
for (const backend of ['node', 'ntdll', 'helper-exe']) {
  const error = await forkBeforeExec('true', [], { backend, actions: ${failingOpen} }).catch((e) => e);
  out[backend] = error instanceof SpawnError && isForkExecError(error) && error.errno === 'ENOENT';
}
const { createRequire } = await import('node:module');
out.sameCopy = createRequire(import.meta.url)('@forkexec/core').SpawnError === SpawnError;
const r = await forkBeforeExec('sh', ['-c', 'echo hi; exit 4'], { backend: 'helper-exe', reject: false });
out.helper = r.exitCode === 4 && r.stdout === 'hi';
const sync = forkBeforeExecSync('sh', ['-c', 'echo hi; exit 4'], { reject: false });
out.sync = sync.exitCode === 4 && sync.stdout === 'hi' && sync.backend === 'ntdll';
console.log(JSON.stringify(out));
process.exit(0);
`,
);
check(
  'ESM: every backend rejects a failed open with an instanceof SpawnError; one copy of core; forkBeforeExecSync on ntdll',
  () => {
    const out = JSON.parse(run('node', ['esm.mjs'], { cwd: app }).stdout);
    if (Object.values(out).some((ok) => !ok)) throw new Error(JSON.stringify(out));
    return JSON.stringify(out);
  },
);
writeFileSync(
  path.join(app, 'cjs.cjs'),
  `const { forkBeforeExec, SpawnError } = require('@forkexec/core');
(async () => {
  const out = {};
  for (const backend of ['node', 'ntdll', 'helper-exe']) {
    const error = await forkBeforeExec('true', [], { backend, actions: ${failingOpen} }).catch((e) => e);
    out[backend] = error instanceof SpawnError;
  }
  out.sameCopy = (await import('@forkexec/core')).SpawnError === SpawnError;
  out.auto = (await forkBeforeExec('true', [])).backend;
  console.log(JSON.stringify(out));
  process.exit(0);
})();
`,
);
check('CommonJS: the same, and auto picks ntdll', () => {
  const out = JSON.parse(run('node', ['cjs.cjs'], { cwd: app }).stdout);
  if (Object.values(out).some((ok) => !ok) || (process.platform === 'linux' && out.auto !== 'ntdll'))
    throw new Error(JSON.stringify(out));
  return JSON.stringify(out);
});

check('npx forkexec run -- node -e "process.exit(3)" exits 3', () => {
  const r = run('npx', ['forkexec', 'run', '--', 'node', '-e', 'process.exit(3)'], { cwd: app, allowFailure: true });
  if (r.status !== 3) throw new Error(`exit status ${r.status}\n${r.stderr}`);
});
check('npx forkexec doctor', () => {
  const r = run('npx', ['forkexec', 'doctor'], { cwd: app });
  const line = r.stdout.split('\n').find((l) => /auto/.test(l));
  return line?.trim();
});
check('bench --chart without vega says how to install it, before measuring', () => {
  const r = run('npx', ['forkexec', 'bench', '--chart', 'x.svg'], { cwd: app, allowFailure: true });
  if (r.status === 0 || !/npm install vega@6 vega-lite@6/.test(r.stderr)) throw new Error(r.stdout + r.stderr);
});

const posixSource = `import { fork, execvp, dup2, waitpid } from '@forkexec/core/posix';
export async function list() {
  const pid = fork();
  if (pid === 0) {
    dup2(2, 1);
    execvp('ls', ['ls', '/']);
  }
  return waitpid(pid);
}
`;
writeFileSync(path.join(app, 'posix.mjs'), posixSource);
check('the Babel plugin rewrites a POSIX-style fork+exec', () => {
  const script = `const babel = require('@babel/core');
    const out = babel.transformFileSync('posix.mjs', { plugins: ['@forkexec/codemod/babel-plugin'], configFile: false });
    console.log(out.code);`;
  const code = run('node', ['-e', script], { cwd: app }).stdout;
  if (!/fork_before_exec\(/.test(code) || /\bfork\(\)/.test(code)) throw new Error(code);
});
check('the Rollup plugin rewrites it too', () => {
  const script = `import { rollup } from 'rollup'; import forkexec from '@forkexec/codemod/rollup';
    const bundle = await rollup({ input: 'posix.mjs', external: (id) => id.startsWith('@forkexec/'), plugins: [forkexec({ failOnUnconverted: true })] });
    const { output } = await bundle.generate({ format: 'es' }); console.log(output[0].code);`;
  const code = run('node', ['--input-type=module', '-e', script], { cwd: app }).stdout;
  if (!/fork_before_exec\(/.test(code)) throw new Error(code);
});

check('a C program builds against forkexec.h from node_modules and runs', () => {
  const native = path.join(app, 'node_modules', '@forkexec', 'helper-exe', 'native');
  writeFileSync(
    path.join(app, 'prog.c'),
    `#include "forkexec.h"
#include <stdio.h>
#include <sys/wait.h>
extern char **environ;
int main(void) {
  char *argv[] = { "sh", "-c", "exit 5", NULL };
  forkexec_actions *a = forkexec_actions_new();
  forkexec_chdir(a, "/");
  pid_t pid = fork_before_exec("sh", argv, environ, a, FORKEXEC_SEARCH_PATH);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return 1;
  forkexec_actions_free(a);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
`,
  );
  const cc = process.env.CC || 'cc';
  run(
    cc,
    [
      '-std=c99',
      `-I${native}`,
      '-o',
      'prog',
      'prog.c',
      path.join(native, 'libforkexec.c'),
      path.join(native, 'action-core.c'),
    ],
    { cwd: app },
  );
  const status = run('./prog', [], { cwd: app, allowFailure: true }).status;
  if (status !== 5) throw new Error(`exit status ${status}`);
});

check("helper-exe's from-source build works from node_modules, and its helper then runs", () => {
  const script = path.join(app, 'node_modules', '@forkexec', 'helper-exe', 'scripts', 'build-native.mjs');
  run('node', [script], { cwd: app });
  const probe = `const { createBackend } = require('@forkexec/helper-exe'); const p = createBackend().probe();
    console.log(JSON.stringify(p)); process.exit(p.ok ? 0 : 1);`;
  return JSON.parse(run('node', ['-e', probe], { cwd: app }).stdout).detail;
});

// 4. Types: strict, skipLibCheck false, under each module resolution a consumer may use (fast-check, core/testing's
// optional peer, not installed).
const typesUse = (imports) => `${imports}
const main = async (): Promise<void> => {
  const result = await forkBeforeExec('true', [], { actions: [{ op: 'chdir', path: '/' }] });
  const backend: string = result.backend;
  const error: unknown = undefined;
  if (isForkExecError(error) && error instanceof SpawnError) console.log(error.errno);
  console.log(backend, fork_before_exec, runConformanceSuite, createBackend, ntdll, codemod, babelPlugin, rollupPlugin);
};
void main();
`;
const esmImports = `import { forkBeforeExec, isForkExecError, SpawnError } from '@forkexec/core';
import { fork_before_exec } from '@forkexec/core/posix';
import { runConformanceSuite } from '@forkexec/core/testing';
import { createBackend } from '@forkexec/helper-exe';
import * as ntdll from '@forkexec/ntdll-backend';
import * as codemod from '@forkexec/codemod';
import babelPlugin from '@forkexec/codemod/babel-plugin';
import rollupPlugin from '@forkexec/codemod/rollup';`;
const cjsImports = esmImports.replace(/import (\* as )?(\{[^}]*\}|\w+) from ('[^']+');/g, (_m, star, binding, spec) =>
  star || binding.startsWith('{')
    ? `import ${star ?? ''}${binding} from ${spec};`
    : `import ${binding} = require(${spec});`,
);
const tsSetups = [
  { name: 'node16, ESM', file: 'types.mts', source: typesUse(esmImports), options: { module: 'node16' } },
  { name: 'nodenext, CommonJS', file: 'types.cts', source: typesUse(cjsImports), options: { module: 'nodenext' } },
  {
    name: 'bundler',
    file: 'types.ts',
    source: typesUse(esmImports),
    options: { module: 'esnext', moduleResolution: 'bundler' },
  },
  {
    name: 'node (node10), CommonJS',
    file: 'types-node10.ts',
    source: typesUse(esmImports),
    options: { module: 'commonjs', moduleResolution: 'node', ignoreDeprecations: '6.0' },
  },
];
for (const setup of tsSetups)
  check(`tsc --strict, skipLibCheck false, ${setup.name}`, () => {
    writeFileSync(path.join(app, setup.file), setup.source);
    const config = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        target: 'es2022',
        types: ['node'],
        ...setup.options,
      },
      files: [setup.file],
    };
    const tsconfig = `tsconfig.${setup.file}.json`;
    writeFileSync(path.join(app, tsconfig), JSON.stringify(config));
    run(path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], { cwd: app });
  });

// 5. Install sizes.
const cliOnly = project('cli-only', { direct: ['@forkexec/cli'] });
console.log(
  `\ninstall sizes: @forkexec/core alone ${installSize(coreOnly)}; @forkexec/cli alone ${installSize(cliOnly)}`,
);
if (keep) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
console.log(
  `${failures ? `\n${failures} check(s) failed` : '\nevery consumer check passed'} (${Math.round((Date.now() - started) / 1000)} s)`,
);
process.exit(failures ? 1 : 0);
