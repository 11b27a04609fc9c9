/**
 * The piscina task module of the blocking strategy: one task serves one
 * connection for its whole life (conn-thread.ts does the work).
 *
 * This module loads no FFI. koffi is loaded on a thread's first task,
 * behind a gate in shared memory: a thread terminated while koffi
 * initializes aborts the whole process (napi_throw during module
 * registration), and process.exit terminates every thread. So close() sets
 * `stopping` and waits for the threads inside the gate, and a thread that
 * finds `stopping` set never enters it: it hands its fd back for the main
 * thread to close.
 *
 * piscina imports this module when a thread starts, before the thread
 * reports ready, but koffi waits for a task: a prestarted thread gets a
 * `loadThread` task, a thread piscina starts on demand its first
 * connection (and a thread that never runs a task never loads it).
 */
import { parentPort, threadId } from 'node:worker_threads';
import type { ConnectionResult, ConnectionTask, LoadedMsg, LoadResult, LoadTask } from './config.js';
import { isThreadData } from './config.js';
import { ConnTable, nowUs } from './table.js';

type Impl = typeof import('./conn-thread.js');
let impl: Impl | undefined;

/** conn-thread.js (and with it koffi), behind the gate; undefined: stopping, nothing loaded. */
async function load(data: unknown): Promise<Impl | undefined> {
  if (impl !== undefined) return impl;
  if (!isThreadData(data)) throw new Error('blocking: pool task without its thread data');
  const table = new ConnTable(data.sab);
  if (!table.enterLoad()) return undefined;
  try {
    impl = await import('./conn-thread.js');
  } finally {
    table.leaveLoad();
  }
  // Tell the main thread, by thread: it counts loaded threads that are
  // still alive (see `loaded` in index.ts).
  parentPort?.postMessage({ blockingThreadLoaded: threadId } satisfies LoadedMsg);
  return impl;
}

export async function serveConnection(task: ConnectionTask): Promise<ConnectionResult> {
  const m = await load(task.data);
  if (m === undefined) return { waitUs: Math.max(0, nowUs() - task.acceptedUs), served: false, closeInMain: true };
  return m.serveConnection(task);
}

/** Prestart: load everything a connection needs, then stay idle in the pool. */
export async function loadThread(task: LoadTask): Promise<LoadResult> {
  const m = await load(task.data);
  if (m === undefined) return { loadedThread: -1 };
  await m.prepareThread(task.data);
  return { loadedThread: threadId };
}
