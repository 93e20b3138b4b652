// The shipped arm64 helper (dist/linux-arm64/fxhelper, cross-built static by the package build) run for
// real under qemu-user on this machine: the pool starts it through a wrapper that execs
// qemu-aarch64(-static), so the helper process is the emulated arm64 program, which applies the
// request's actions and execs the (native) target in place. Skipped, with the reason, without qemu.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { forkBeforeExec, SpawnError } from '@forkexec/core';
import { createBackend, type HelperExeBackend } from '../../src/index.js';
import { until } from '../support/processes.js';

const arm64Helper = path.join(__dirname, '..', '..', 'dist', 'linux-arm64', 'fxhelper');

function findQemu(): string | undefined {
  for (const name of ['qemu-aarch64-static', 'qemu-aarch64'])
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    } catch {}
  return undefined;
}

const qemu = process.platform === 'linux' ? findQemu() : undefined;
const missing = !qemu
  ? 'qemu-aarch64 is not installed (Debian: apt-get install qemu-user-static)'
  : !existsSync(arm64Helper)
    ? `${arm64Helper} is not built (apt-get install gcc-aarch64-linux-gnu, then build the package)`
    : undefined;
if (missing) console.warn(`skipping the arm64 helper under qemu: ${missing}`);
const maybe = missing ? describe.skip : describe;

maybe('the arm64 helper under qemu-user', () => {
  let dir = '';
  let backend: HelperExeBackend;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'forkexec-arm64-'));
    const wrapper = path.join(dir, 'fxhelper-arm64');
    writeFileSync(wrapper, `#!/bin/sh\nexec ${qemu} ${arm64Helper} "$@"\n`, { mode: 0o755 });
    backend = createBackend({ helperPath: wrapper, min: 1, max: 2 });
  });

  afterAll(async () => {
    await backend?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  test('is an arm64 program', () => {
    expect(execFileSync('file', ['-b', arm64Helper], { encoding: 'utf8' })).toMatch(/ARM aarch64.*statically linked/);
  });

  test('probes fine: the handshake with the emulated helper', () => {
    const probe = backend.probe();
    expect(probe).toMatchObject({ ok: true });
  });

  test('runs a program after its actions, with its output and exit status', async () => {
    const result = await forkBeforeExec('sh', ['-c', 'pwd; echo "$FX_ARCH" >&2; exit 7'], {
      backend,
      reject: false,
      env: { FX_ARCH: 'arm64 helper' },
      actions: [
        { op: 'chdir', path: dir },
        { op: 'umask', mask: 0o077 },
      ],
    });
    expect(result).toMatchObject({ exitCode: 7, stdout: dir, stderr: 'arm64 helper', backend: 'helper-exe' });
  });

  test('its helpers (the zygote and the helpers it forks) are the arm64 program in qemu', async () => {
    // The zygote is this process's child and the helpers are the zygote's: look at every process.
    const emulated = () =>
      readdirSync('/proc').filter((pid) => {
        try {
          return (
            readlinkSync(`/proc/${pid}/exe`) === qemu &&
            readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(arm64Helper)
          );
        } catch {
          return false;
        }
      });
    await until(
      () => emulated().length > 0,
      () => `no child runs ${arm64Helper} in ${qemu}`,
    );
  });

  test('reports a failed action as a SpawnError with its errno', async () => {
    const failure = forkBeforeExec('true', [], {
      backend,
      actions: [{ op: 'open', fd: 5, path: path.join(dir, 'missing', 'file'), flags: 'r' }],
    });
    await expect(failure).rejects.toBeInstanceOf(SpawnError);
    await expect(failure).rejects.toMatchObject({ errno: 'ENOENT', actionIndex: 0 });
  });
});
