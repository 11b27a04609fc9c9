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
 */
import type { ConnectionResult, ConnectionTask } from './config.js';
import { isThreadData } from './config.js';
import { ConnTable, nowUs } from './table.js';

type Impl = typeof import('./conn-thread.js');
let impl: Impl | undefined;

export async function serveConnection(task: ConnectionTask): Promise<ConnectionResult> {
  if (impl === undefined) {
    if (!isThreadData(task.data)) throw new Error('blocking: connection task without its thread data');
    const table = new ConnTable(task.data.sab);
    if (!table.enterLoad()) return { waitUs: Math.max(0, nowUs() - task.acceptedUs), served: false, closeInMain: true };
    try {
      impl = await import('./conn-thread.js');
    } finally {
      table.leaveLoad();
    }
    table.threadLoaded();
  }
  return impl.serveConnection(task);
}
