/**
 * A call with an 'ipc' stdio entry (fork, or spawn as execaNode calls it): the child's end of a
 * socketpair placed at that entry's fd with NODE_CHANNEL_FD and NODE_CHANNEL_SERIALIZATION_MODE
 * in its environment, as Node's ChildProcess.spawn does, and Node's channel on the parent's end.
 */
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Backend } from '../backend.js';
import type { Options } from '../options.js';
import type { ForkExecChildProcess } from './child.js';
import { setupChannel, type Serialization } from './ipc-channel.js';

export interface IpcEntry {
  /** The stdio slot of the 'ipc' entry: the child's fd for the channel. */
  slot: number;
  serialization: Serialization;
}

export interface PlacedChannel {
  /** After the start: the parent keeps its end only, as Node's channel on `child`. */
  attach(child: ForkExecChildProcess): void;
  /** The start failed: both ends closed. */
  abandon(): void;
}

/**
 * Puts the channel into `options` (the child's fd, its environment), or undefined when the backend
 * offers no socket pair (or the OS refused one).
 */
export function placeChannel(options: Options, ipc: IpcEntry, backend: Backend): PlacedChannel | undefined {
  let parentFd: number, childFd: number;
  try {
    const pair = backend.socketPair?.();
    if (!pair) return undefined;
    [parentFd, childFd] = pair;
  } catch {
    return undefined;
  }
  if (ipc.slot < 3) (options.stdio as (string | number)[])[ipc.slot] = childFd;
  else options.actions = [...(options.actions ?? []), { op: 'dup2', from: childFd, to: ipc.slot }];
  // Appended after what spawn put in the environment, as Node's ChildProcess.spawn does.
  const env = options.env ?? (Object.fromEntries(Object.entries(process.env)) as Record<string, string>);
  options.env = {
    ...env,
    NODE_CHANNEL_FD: String(ipc.slot),
    NODE_CHANNEL_SERIALIZATION_MODE: ipc.serialization,
  };
  options.extendEnv = false;
  return {
    attach(child) {
      closeSync(childFd);
      const socket = new Socket({ fd: parentFd, readable: true, writable: true });
      setupChannel(child, socket, ipc.serialization, child.holdClose());
    },
    abandon() {
      closeSync(childFd);
      closeSync(parentFd);
    },
  };
}
