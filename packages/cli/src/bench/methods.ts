import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { forkBeforeExec, InvalidArgumentError, listBackends } from '@forkexec/core';
import { Driver, drivenMethod } from './driven.js';
import { launchMethod, type Launch, type Method, type MethodKind } from './method.js';
import { packageRoot, type NativePrograms } from './native.js';
import { importPeer } from './peers.js';
import { RUNTIME_PEERS, runtimePeerMethod } from './runtime-peers.js';

export interface Skipped {
  name: string;
  kind: MethodKind;
  reason: string;
}

/** The methods that do not come from a forkexec backend, in table order. */
export const FLOOR = 'c-posix-spawn';
export const CHILD_PROCESS = 'child_process';
const PEERS = ['execa', 'tinyexec', 'nano-spawn'] as const;
/** The ways Node code spawns that the bench times in this process, and under the register hook in a Node of their own. */
export type NodeWay = typeof CHILD_PROCESS | typeof EXEC_FILE_SYNC | (typeof PEERS)[number];
/** child_process.execFileSync: the whole spawn blocks the event loop (the drop-in's runs Backend.spawnSync). */
const EXEC_FILE_SYNC = 'execFileSync';
export const REGISTERED_SUFFIX = '+register';
/** child_process and the peers under `node --import @forkexec/core/register`, in a process of their own. */
export const REGISTERED = [CHILD_PROCESS, EXEC_FILE_SYNC, ...PEERS].map((name) => `${name}${REGISTERED_SUFFIX}`);

/** Rejects unless the child exited with 0. */
function exitedZero(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`the target exited with ${signal ?? code}`)),
    );
  });
}

type Execa = typeof import('execa');
type Tinyexec = typeof import('tinyexec');
type NanoSpawn = typeof import('nano-spawn');

/**
 * How child_process and each peer start the target with stdio ignored and wait for it, as its
 * README shows; a string says why it cannot run here.
 */
export async function nodeMethod(name: NodeWay, target: string): Promise<Method | string> {
  switch (name) {
    case CHILD_PROCESS:
      return launchMethod({ name, kind: 'raw', version: null, forks: true }, (): Launch => {
        const child = spawn(target, [], { stdio: 'ignore' });
        return { pid: child.pid, exited: exitedZero(child) };
      });
    case EXEC_FILE_SYNC:
      return launchMethod({ name, kind: 'raw', version: null, forks: true }, (): Launch => {
        execFileSync(target, [], { stdio: 'ignore' }); // throws unless the target exited with 0
        return { pid: undefined, exited: Promise.resolve() };
      });
    case 'execa': {
      const peer = await importPeer<Execa>('execa');
      if (!peer) return 'not installed (npm install -D execa)';
      const { execa } = peer.module;
      return launchMethod({ name, kind: 'peer', version: `execa ${peer.version}`, forks: true }, () => {
        const child = execa(target, [], { stdio: 'ignore' });
        return { pid: child.pid, exited: child };
      });
    }
    case 'tinyexec': {
      const peer = await importPeer<Tinyexec>('tinyexec');
      if (!peer) return 'not installed (npm install -D tinyexec)';
      const { x } = peer.module;
      return launchMethod({ name, kind: 'peer', version: `tinyexec ${peer.version}`, forks: true }, () => {
        const child = x(target, [], { nodeOptions: { stdio: 'ignore' }, throwOnError: true });
        return { pid: child.pid, exited: child };
      });
    }
    case 'nano-spawn': {
      const peer = await importPeer<NanoSpawn>('nano-spawn');
      if (!peer) return 'not installed (npm install -D nano-spawn)';
      const spawnPeer = peer.module.default;
      return launchMethod({ name, kind: 'peer', version: `nano-spawn ${peer.version}`, forks: true }, () => {
        const child = spawnPeer(target, [], { stdio: 'ignore' });
        // nano-spawn starts the process on a later tick: its pid arrives with nodeChildProcess.
        return { pid: child.nodeChildProcess.then((c) => c.pid), exited: child };
      });
    }
  }
}

function kindOf(name: string): MethodKind {
  if (name === FLOOR) return 'floor';
  if ([CHILD_PROCESS, EXEC_FILE_SYNC].some((way) => name === way || name === `${way}${REGISTERED_SUFFIX}`))
    return 'raw';
  return [...PEERS, ...RUNTIME_PEERS, ...REGISTERED].includes(name as never) ? 'peer' : 'backend';
}

/** The one Node process, under the register hook and holding the ballast, that times every registered way (node-driver.ts). */
function registeredDriver(target: string): Driver {
  const root = packageRoot();
  const register = createRequire(path.join(root, 'noop.js')).resolve('@forkexec/core/register');
  const args = ['--import', pathToFileURL(register).href, path.join(root, 'bin', 'forkexec.js'), 'bench-driver'];
  return new Driver('node --import @forkexec/core/register', process.execPath, args, target);
}

/**
 * Builds the methods to compare: the C floor, raw child_process, every forkexec backend whose
 * probe is ok here, and the peers that are installed (Node packages, then Bun and Python). The rest come back as skipped, with why.
 */
export async function collectMethods(
  selection: string[] | undefined,
  native: NativePrograms,
): Promise<{ methods: Method[]; skipped: Skipped[] }> {
  const statuses = listBackends();
  const known = [
    FLOOR,
    CHILD_PROCESS,
    EXEC_FILE_SYNC,
    ...statuses.map((s) => s.name),
    ...PEERS,
    ...REGISTERED,
    ...RUNTIME_PEERS,
  ];
  const unknown = selection?.filter((name) => !known.includes(name)) ?? [];
  if (unknown.length)
    throw new InvalidArgumentError(
      `--backends: unknown ${unknown.map((n) => JSON.stringify(n)).join(', ')}; choose from ${known.join(', ')}`,
    );
  const wanted = (name: string) => !selection || selection.includes(name);
  const methods: Method[] = [];
  const skipped: Skipped[] = [];
  const skip = (name: string, reason: string) => skipped.push({ name, kind: kindOf(name), reason });
  const target = native.target;

  if (wanted(FLOOR)) {
    const info = { name: FLOOR, kind: 'floor', version: null, forks: false } as const;
    if (native.floor) methods.push(drivenMethod(info, new Driver(FLOOR, native.floor, [], target)));
    else skip(FLOOR, native.missing ?? 'not built');
  }
  if (wanted(CHILD_PROCESS)) methods.push((await nodeMethod(CHILD_PROCESS, target)) as Method);
  if (wanted(EXEC_FILE_SYNC)) methods.push((await nodeMethod(EXEC_FILE_SYNC, target)) as Method);
  for (const status of statuses) {
    if (!wanted(status.name)) continue;
    if (!status.ok || !status.backend) {
      skip(status.name, status.reason ?? 'unavailable');
      continue;
    }
    const backend = status.backend;
    // A backend whose cost grows with the parent's memory forks it (the node backend, over child_process).
    const info = {
      name: status.name,
      kind: 'backend',
      version: status.package,
      forks: !backend.capabilities.flatCost,
    } as const;
    methods.push(
      launchMethod(
        info,
        () => {
          const child = forkBeforeExec(target, [], { backend: status.name, stdio: 'ignore' });
          // A backend that starts the child off the event loop knows the pid once `started` resolves.
          return { pid: child.pid ?? child.started, exited: child };
        },
        async () => void (await backend.dispose?.()),
      ),
    );
  }
  for (const name of PEERS) {
    if (!wanted(name)) continue;
    const method = await nodeMethod(name, target);
    if (typeof method === 'string') skip(name, method);
    else methods.push(method);
  }
  let driver: Driver | undefined;
  for (const way of [CHILD_PROCESS, EXEC_FILE_SYNC, ...PEERS] as NodeWay[]) {
    const name = `${way}${REGISTERED_SUFFIX}`;
    if (!wanted(name)) continue;
    const plain = await nodeMethod(way, target);
    if (typeof plain === 'string') {
      skip(name, plain);
      continue;
    }
    const info = { name, kind: plain.kind, version: plain.version, forks: false, separateGroup: true };
    methods.push(drivenMethod(info, (driver ??= registeredDriver(target)), `${way} `));
  }
  for (const name of RUNTIME_PEERS) {
    if (!wanted(name)) continue;
    const method = runtimePeerMethod(name, target);
    if (typeof method === 'string') skip(name, method);
    else methods.push(method);
  }
  return { methods, skipped };
}
