import type { Win32Api } from './ntdll-api.js';

const INFINITE = 0xffffffff;
const WT_EXECUTEONLYONCE = 0x8;

const waiting = new Map<number, { wait: bigint; onExit: () => void }>();
let nextId = 1;
let callback: bigint | undefined;
/** Registered waits are invisible to libuv: a timer keeps the event loop alive while children run. */
let keepAlive: NodeJS.Timeout | undefined;

function fired(api: Win32Api, id: number): void {
  const entry = waiting.get(id);
  if (!entry) return;
  waiting.delete(id);
  if (waiting.size === 0) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
  // Leave the pool thread's callback before unregistering (UnregisterWait must not wait on itself).
  setImmediate(() => {
    api.UnregisterWait(entry.wait);
    entry.onExit();
  });
}

/**
 * Calls `onExit` on the main thread once `process` has ended. The wait runs on the Windows thread
 * pool (RegisterWaitForSingleObject, as libuv does); koffi relays the callback to the event loop.
 */
export function watchProcessHandle(api: Win32Api, process: bigint, onExit: () => void): void {
  callback ??= api.koffi.register(
    (context: number | bigint) => fired(api, Number(context)),
    api.koffi.pointer('FX_WaitOrTimerCallback'),
  );
  const id = nextId++;
  const wait: [bigint | null] = [null];
  if (!api.RegisterWaitForSingleObject(wait, process, callback, id, INFINITE, WT_EXECUTEONLYONCE))
    throw new Error(`RegisterWaitForSingleObject failed (error ${api.GetLastError()})`);
  waiting.set(id, { wait: wait[0]!, onExit });
  keepAlive ??= setInterval(() => {}, 1 << 30);
}
