/**
 * The readiness loops a reactor worker runs around the Engine.
 *
 * - selectorLoop: one thread blocks in the Selector (select/poll/epoll/
 *   kqueue) until some fd is ready — phase 1, waiting for data, is left to
 *   the kernel for every fd at once — then does phase 2 (recv/send copies)
 *   for exactly the ready fds. The main thread stops it through a
 *   SharedArrayBuffer flag plus one byte on the wake-up pipe, which the loop
 *   watches like any socket (the self-pipe trick).
 * - busyPollLoop: no readiness wait at all. Every fd is O_NONBLOCK and the
 *   loop simply tries accept and recv on every one of them, forever (the
 *   seed's "循环, 效率低"): phase 1 is spent spinning in user space, so it
 *   burns a full core even with no clients.
 */
import { createSelector, EVENT_READ, EVENT_WRITE, type Selector, type SelectorKind } from '../selectors/index.js';
import type { LoopHooks } from '../loop-thread-entry.js';
import type { Protocol } from '../../core/protocol.js';
import type { ServerCounters } from '../../core/strategy.js';
import { CONTROL_STOP } from '../loop-thread.js';
import * as sys from '../sys/index.js';
import { Engine, type Connection, type Interest } from './engine.js';
import type { ReactorWorkerData } from './entry.js';

const TICK_MS = 1000;
/** After EMFILE, how long the listener is left unwatched. */
const ACCEPT_PAUSE_MS = 100;
/**
 * Busypoll: accept batches per pass. One batch per pass made the accept
 * phase quadratic: with thousands of connections queued, each batch waited
 * for a scan of every connection accepted so far, and a cell's last (its
 * active) connections were still queued when its window opened. 16 batches
 * drain a queue of thousands in a few passes, still bounded so a connect
 * storm cannot stop the scan.
 */
const BUSYPOLL_ACCEPT_BATCHES = 16;

export function selectorLoop(kind: SelectorKind, d: ReactorWorkerData, hooks: LoopHooks, protocol: Protocol): ServerCounters {
  const control = new Int32Array(d.control);
  // Keys carry the Connection; the listener and the waker carry undefined.
  const sel: Selector<Connection | undefined> = createSelector(kind);
  const interest: Interest = {
    add: (c, ev) => sel.register(c.fd, ev, c),
    modify: (c, ev) => sel.modify(c.fd, ev),
    remove: (c) => sel.unregister(c.fd),
  };
  const engine = new Engine(protocol, d.opts, interest);
  const waker = new sys.Waker({ readFd: d.wakeFd, writeFd: -1 });
  try {
    sel.register(d.wakeFd, EVENT_READ, undefined);
    sel.register(d.listenFd, EVENT_READ, undefined);
    hooks.ready();
    let nextTick = Date.now() + TICK_MS;
    let resumeAccept = 0;
    while (Atomics.load(control, CONTROL_STOP) === 0) {
      const r = sel.select(resumeAccept > 0 ? ACCEPT_PAUSE_MS : TICK_MS);
      for (let i = 0; i < r.count; i++) {
        const key = r.keys[i];
        const ev = r.events[i] ?? 0;
        if (key === undefined) continue;
        const conn = key.data;
        if (conn !== undefined) {
          if ((ev & EVENT_WRITE) !== 0) conn.writable();
          if ((ev & EVENT_READ) !== 0) conn.readable();
        } else if (key.fd === d.listenFd) {
          if (engine.acceptBatch(d.listenFd) === 'pause') {
            sel.unregister(d.listenFd);
            resumeAccept = Date.now() + ACCEPT_PAUSE_MS;
          }
        } else {
          waker.drain();
        }
      }
      const now = Date.now();
      if (resumeAccept > 0 && now >= resumeAccept) {
        resumeAccept = 0;
        sel.register(d.listenFd, EVENT_READ, undefined);
      }
      if (now >= nextTick) {
        nextTick = now + TICK_MS;
        engine.tick(now);
        hooks.counters(engine.counters);
      }
    }
    engine.shutdown();
  } finally {
    sel.close();
  }
  return engine.counters;
}

/**
 * An Interest for loops that try every fd (busypoll, sigio): every live
 * connection in a dense array, removed by swapping in the last one.
 */
export function denseInterest(conns: Connection[], onAdd?: (c: Connection) => void): Interest {
  return {
    add: (c) => {
      onAdd?.(c);
      c.index = conns.length;
      conns.push(c);
    },
    modify: () => undefined,
    remove: (c) => {
      const last = conns.pop();
      if (last !== undefined && last !== c) {
        last.index = c.index;
        conns[c.index] = last;
      }
      c.index = -1;
    },
  };
}

/** Busypoll's "interest" is a dense array of every live connection. */
export function busyPollLoop(d: ReactorWorkerData, hooks: LoopHooks, protocol: Protocol): ServerCounters {
  const control = new Int32Array(d.control);
  const conns: Connection[] = [];
  // Nothing to tell anyone on modify: every fd is tried on every pass anyway.
  const interest = denseInterest(conns);
  const engine = new Engine(protocol, d.opts, interest);
  hooks.ready();
  let nextTick = Date.now() + TICK_MS;
  let pass = 0;
  let resumeAccept = 0;
  while (Atomics.load(control, CONTROL_STOP) === 0) {
    for (let b = 0; resumeAccept === 0 && b < BUSYPOLL_ACCEPT_BATCHES; b++) {
      const r = engine.acceptBatch(d.listenFd);
      if (r === 'pause') resumeAccept = Date.now() + ACCEPT_PAUSE_MS;
      if (r !== 'more') break;
    }
    // Backwards, so a connection closing mid-pass (swapped with the last,
    // already visited) does not make us skip one.
    for (let i = conns.length - 1; i >= 0; i--) {
      const c = conns[i];
      if (c === undefined) continue;
      if (c.queued > 0) c.writable();
      c.readable();
    }
    if ((++pass & 255) === 0) {
      const now = Date.now();
      if (resumeAccept > 0 && now >= resumeAccept) resumeAccept = 0;
      if (now >= nextTick) {
        nextTick = now + TICK_MS;
        engine.tick(now);
        hooks.counters(engine.counters);
      }
    }
  }
  engine.shutdown();
  return engine.counters;
}
