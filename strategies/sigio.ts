/**
 * sigio: signal-driven IO, the seed's fourth model. Every socket is
 * O_NONBLOCK | O_ASYNC with F_SETOWN = this process, so the kernel raises
 * SIGIO when something happens on any of them; nobody blocks in phase 1 —
 * the process runs on (here: sleeps in Node's loop) and the signal says
 * "something, somewhere, is ready". Phase 2 (the recv copy) is still ours.
 * Runs on the main thread: Node delivers `process.on('SIGIO')` there. The
 * connections are the reactor's (reactor/engine.ts), driven by signals
 * instead of a readiness wait.
 *
 * Why this model is rare in practice:
 * - Signals coalesce. A standard signal is one pending bit: ten sockets
 *   becoming readable before the handler runs give one SIGIO. So a signal
 *   can never mean "one event"; on every signal we drain *everything*: accept
 *   until EAGAIN, and recv on every connection until EAGAIN.
 * - No per-fd information. Plain SIGIO carries no fd; F_SETSIG with
 *   SA_SIGINFO would (si_fd), but Node's handler gives us only the signal
 *   name — and even F_SETSIG's real-time queue overflows under load, falling
 *   back to SIGIO. Hence the next point.
 * - The cost grows with the number of fds: each signal scans all of them, a
 *   recv syscall per connection, like poll() but done in user space one
 *   syscall at a time (`iomodels micro` measures that scan next to
 *   select/poll/epoll). Under closed-loop load most sockets are busy, so a
 *   scan finds much work; idle fds are what cost.
 *
 * Signals, Node and the libuv signal pipe. Node runs no JS in a signal
 * handler: libuv's handler writes a 16-byte message per delivery into a
 * pipe, and the loop later calls us once per message. When 10,000 clients
 * closed at once, the kernel delivered SIGIO to every thread of the process
 * faster than the main thread (busy in a drain) read the pipe; the pipe
 * filled, libuv dropped what did not fit — SIGTERM included — and the server
 * never stopped. Hence, the classic discipline of signal-driven servers:
 * - On Linux every socket's owner is the main thread (F_SETOWN_EX,
 *   F_OWNER_TID: its tid is the pid), not the process, and SIGIO is blocked
 *   in that thread while it drains. Signals raised meanwhile coalesce into
 *   one pending SIGIO, delivered once when the drain unblocks it; the pipe
 *   gets about one message per drain instead of one per socket event.
 * - A signal only schedules a drain (setImmediate) if none is pending, so
 *   the messages already queued cost a flag check each, not a scan each.
 * "signals: SIGIO" counts deliveries, "sigio: drains" the scans they caused.
 *
 * Safety sweep: a drain pass also runs every SWEEP_MS without a signal.
 * Draining on every signal is enough when every event raises one, but not
 * every socket event does: TCP sends its FIN wake-up as SOCK_WAKE_WAITD,
 * which the kernel suppresses while the socket is marked as having a waiting
 * reader. (Bytes that arrive between accept() and fcntl(O_ASYNC) raise no
 * signal either, but the drain pass that accepted the connection reads it
 * right after setting O_ASYNC, so that case needs no sweep.) The sweep
 * bounds such a miss to SWEEP_MS. The counter "sigio: sweeps that found
 * work" is an upper bound on the misses: it also counts sweeps that merely
 * ran before a pending signal's callback.
 */
import { isMainThread } from 'node:worker_threads';
import type { ProtocolSpec } from '../core/protocol.js';
import { listenTcp } from './listen-tcp.js';
import { loadProtocol } from './protocol-loader.js';
import { Engine, type Connection } from './reactor/engine.js';
import { denseInterest } from './reactor/loops.js';
import { bump, type ServerCounters, type StrategyOptions, type StrategyServer } from '../core/strategy.js';
import * as sys from './sys/index.js';

const TICK_MS = 1000;
const SWEEP_MS = 250;
/** recv calls per connection per pass before moving on (fairness); a later pass continues. */
const READS_PER_PASS = 16;
/** Passes per drain: bounds one signal's work when clients never stop sending. */
const MAX_PASSES = 64;
const ACCEPT_PAUSE_MS = 100;

/**
 * SIGIO's default action terminates the process, so a handler must exist
 * before the first fd gets O_ASYNC and must stay after the last one closed
 * (a signal already in flight may still arrive). It is installed once and
 * dispatches to whichever server is live.
 */
const live = new Set<() => void>();
let installed = false;
function onSigio(fn: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('SIGIO', () => {
      for (const f of live) f();
    });
  }
  live.add(fn);
  return () => live.delete(fn);
}

const LINUX = process.platform === 'linux';

/** O_NONBLOCK | O_ASYNC, owned by the main thread (Linux) or this process. 0 or -errno. */
function makeAsync(fd: number, pid: number): number {
  const own = LINUX ? sys.setOwnerThread(fd, pid) : sys.fcntl(fd, sys.F_SETOWN, pid);
  if (own < 0) return own;
  const fl = sys.fcntl(fd, sys.F_GETFL);
  if (fl < 0) return fl;
  return sys.fcntl(fd, sys.F_SETFL, fl | sys.O_NONBLOCK | sys.O_ASYNC);
}

export async function createSigioServer(spec: ProtocolSpec, opts: StrategyOptions): Promise<StrategyServer> {
  // The sockets' owner thread is the main thread, whose tid is the pid.
  if (!isMainThread) throw new Error('sigio must run on the main thread: Node runs process signal listeners there');
  const pid = sys.getpid();
  const conns: Connection[] = [];
  let counters: ServerCounters = {};
  // Every signal scans every fd anyway, so modify has nothing to tell anyone.
  const interest = denseInterest(conns, (c) => {
    const rc = makeAsync(c.fd, pid);
    // Without O_ASYNC this connection is served by the sweep alone: count it.
    if (rc < 0) bump(engine.counters, `errors: O_ASYNC ${sys.errnoName(-rc)}`);
  });
  const engine = new Engine(await loadProtocol(spec), opts, interest);
  counters = engine.counters;
  let listening = false;
  let listenFd = -1;
  let resumeAccept = 0;
  let stop: (() => void) | undefined;
  const timers: NodeJS.Timeout[] = [];
  // Without the mask, bursts of signals can overflow libuv's signal pipe
  // (see the header): say so once rather than degrade silently.
  const maskRc = LINUX ? sys.blockSignal(sys.SIGIO, false) : 0;
  const canMask = LINUX && maskRc === 0;
  if (maskRc < 0) bump(counters, `errors: SIGIO mask ${sys.errnoName(-maskRc)}`);

  /** One drain with SIGIO blocked in this thread (see the header). Returns the work done. */
  const drain = (): number => {
    const masked = canMask && sys.blockSignal(sys.SIGIO, true) === 0;
    try {
      return drainAll();
    } finally {
      if (masked) sys.blockSignal(sys.SIGIO, false);
    }
  };

  /** Accept until EAGAIN, then every connection until EAGAIN. Returns the work done. */
  const drainAll = (): number => {
    let work = 0;
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      let more = false;
      if (listenFd >= 0 && resumeAccept === 0) {
        const before = engine.size;
        let r = engine.acceptBatch(listenFd);
        while (r === 'more') r = engine.acceptBatch(listenFd);
        if (r === 'pause') resumeAccept = Date.now() + ACCEPT_PAUSE_MS;
        work += Math.max(0, engine.size - before);
      }
      // Backwards, so a connection closing mid-pass (swapped with the last,
      // already visited) does not make us skip one.
      for (let i = conns.length - 1; i >= 0; i--) {
        const c = conns[i];
        if (c === undefined) continue;
        if (c.queued > 0) c.writable();
        let k = 0;
        while (k < READS_PER_PASS && c.readable()) k++;
        work += k;
        if (k === READS_PER_PASS) more = true;
      }
      if (!more) break;
    }
    return work;
  };

  return {
    name: 'sigio',
    counters: () => ({ ...counters }),

    async listen(host, port) {
      if (listening) throw new Error('sigio: listen() called twice');
      listening = true;
      const l = await listenTcp(host, port, opts);
      listenFd = l.fd;
      // Handler first, then O_ASYNC (the default action of SIGIO is to exit).
      let pending = false;
      stop = onSigio(() => {
        bump(counters, 'signals: SIGIO');
        if (pending) return;
        pending = true;
        setImmediate(() => {
          pending = false;
          bump(counters, 'sigio: drains');
          drain();
        });
      });
      const rc = makeAsync(l.fd, pid);
      if (rc < 0) {
        stop();
        sys.close(l.fd);
        listenFd = -1;
        throw new sys.SysError('fcntl', -rc, '(O_ASYNC on the listening socket)');
      }
      timers.push(
        setInterval(() => {
          const now = Date.now();
          engine.tick(now);
        }, TICK_MS),
        setInterval(() => {
          if (resumeAccept > 0 && Date.now() >= resumeAccept) resumeAccept = 0;
          if (drain() > 0) bump(counters, 'sigio: sweeps that found work');
        }, SWEEP_MS),
      );
      // Left ref'd on purpose: nothing else keeps Node's loop alive (the
      // sockets are raw fds and a signal listener does not hold the loop).
      // Anything that arrived before O_ASYNC was set raised no signal for us.
      drain();
      return { host: l.host, port: l.port };
    },

    close() {
      for (const t of timers) clearInterval(t);
      timers.length = 0;
      if (listenFd >= 0) {
        sys.close(listenFd);
        listenFd = -1;
      }
      engine.shutdown();
      stop?.();
      stop = undefined;
      return Promise.resolve();
    },
  };
}
