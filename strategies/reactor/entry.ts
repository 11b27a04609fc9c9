/**
 * How the main thread starts a reactor loop (its LoopEntry for the loop
 * server, loop-thread.ts) and what it hands the worker: which readiness
 * loop to run, and the read end of a self-pipe to be woken by. The loop
 * watches that pipe like any socket, so one byte written to it wakes a
 * loop blocked in select/poll/epoll_wait (the self-pipe trick).
 */
import type { SelectorKind } from '../selectors/index.js';
import type { LoopEntry, LoopWorkerData } from '../loop-thread.js';
import * as sys from '../sys/index.js';

/** Which readiness loop a worker runs. */
export type LoopKind = SelectorKind | 'busypoll';

export interface ReactorWorkerData extends LoopWorkerData {
  readonly loop: LoopKind;
}

const WORKER_URL = new URL('./worker.js', import.meta.url);

/** The loop server's entry for the reactor strategy named after its loop. */
export function reactorEntry(loop: LoopKind): LoopEntry {
  return {
    name: loop,
    url: WORKER_URL,
    failureCounter: 'errors: reactor',
    // The loop accepts itself, until EAGAIN.
    blockingListener: false,
    data: { loop } satisfies Omit<ReactorWorkerData, keyof LoopWorkerData>,
    waker: () => new sys.Waker(),
  };
}
