/**
 * blocking: the seed's BIO model, one thread per connection. Every socket
 * is in blocking mode and each one is owned by one thread: an acceptor
 * thread sleeps in accept(2), and each connection's pool thread sleeps in
 * recv(2) through both phases of a read — waiting for data (phase 1) and
 * the kernel's copy into our buffer (phase 2) — and in send(2) while the
 * peer's window is full. Nobody watches fds: the kernel wakes exactly the
 * thread blocked on the socket that became ready. The price is a thread
 * per live connection, here a worker_thread: an isolate with its own heap,
 * far dearer to start than any message is to serve.
 *
 * Threads come from a piscina pool capped at maxThreads; a connection is a
 * task that lasts as long as the connection, so connections beyond the cap
 * wait in the pool's queue (up to maxQueue) and beyond that are closed at
 * once ("refused: thread pool full"). Chat fan-out crosses threads through
 * a connection table in shared memory (table.ts).
 *
 * Real thread-per-connection servers keep threads ready before clients
 * come (Apache's StartServers, Tomcat's minSpareThreads), and so does this
 * one: with `prestart` N, listen() starts min(N, maxThreads) threads and
 * resolves once each has loaded everything a connection needs, so the
 * cell's N connections are served at once and its window measures blocking
 * IO, not thread start-up. The start-up is reported as its own figure
 * (startup(), the "startup: …" counters), and serving() tells the harness
 * when every connection holds its thread. Without prestart a thread starts
 * when a connection needs one (see pump).
 *
 * A thread blocked in recv cannot be stopped from outside, so close()
 * shuts every live socket down (and the listener): every blocked call
 * returns, every task ends, and the pool drains. Connections still waiting
 * for a thread are closed by the main thread at once, unserved: no thread
 * is started just to close one.
 */
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { listenTcp } from '../listen-tcp.js';
import { close as closeFd, shutdown, SHUT_RDWR } from '../sys/index.js';
import type { ProtocolSpec } from '../../core/protocol.js';
import type { ServerCounters, StrategyOptions, StrategyServer } from '../../core/strategy.js';
import {
  blockingOptions,
  isLoadedMsg,
  isLoadResult,
  type AcceptedMsg,
  type ConnectionResult,
  type ConnectionTask,
  type LoadResult,
  type LoadTask,
  type ThreadData,
} from './config.js';
import { ConnTable, COUNTER_NAMES, DEFAULT_TABLE_CAPACITY, FREE, LOG_WORKER, nowUs, STARVED_US } from './table.js';
import { CAP_COUNTERS } from '../../core/counters.js';

/** close() finishes within this (serve exits anyway at 1.5 s). */
const CLOSE_BUDGET_MS = 1300;
const ACCEPTOR_EXIT_MS = 300;
/** Pool threads that may be starting at once (see pump). */
const MAX_STARTING = 2;
/**
 * listen() waits this long for the prestarted threads, plus the per-thread
 * share: they start together on the server's CPUs, so the wait grows with
 * their number. Past it listen() resolves anyway and the shortfall is
 * counted ("startup: threads not ready"); those threads go on loading.
 */
const PRESTART_BASE_MS = 2000;
const PRESTART_PER_THREAD_MS = 150;

const ACCEPTOR_URL = new URL('./acceptor.js', import.meta.url);
const CONNECTION_URL = new URL('./connection.js', import.meta.url).href;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? 0;
}

type Pool = Piscina<ConnectionTask, ConnectionResult>;

/** A thread piscina still has (a dead one's message or result is not counted). */
const isLive = (p: Pool, threadId: number): boolean => p.threads.some((w) => w.threadId === threadId);

/** A prestart task: connection.ts's `loadThread` export, on the same pool. */
function runLoad(p: Pool, task: LoadTask): Promise<LoadResult> {
  // piscina types run() by the pool's default export (serveConnection); the
  // named one takes a LoadTask and returns a LoadResult, checked here.
  const run = p.run.bind(p) as unknown as (t: LoadTask, o: { name: string }) => Promise<unknown>;
  return run(task, { name: 'loadThread' }).then((r) => (isLoadResult(r) ? r : { loadedThread: -1 }));
}

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms).unref();
  });

export function createBlockingServer(spec: ProtocolSpec, opts: StrategyOptions): StrategyServer {
  const bo = blockingOptions(opts.extra);
  if (!Number.isInteger(opts.prestart) || opts.prestart < 0) {
    throw new RangeError(`blocking: prestart must be a whole number >= 0, got ${JSON.stringify(opts.prestart)}`);
  }
  /** Threads started and loaded before listen() resolves (never beyond the cap). */
  const prestart = Math.min(opts.prestart, bo.maxThreads);
  const table = new ConnTable(DEFAULT_TABLE_CAPACITY);
  const threadData: ThreadData = {
    sab: table.sab,
    spec,
    sendTimeoutMs: bo.sendTimeoutMs,
  };
  /** Queue waits (µs) of every connection a thread took, served or not. */
  const waits: number[] = [];
  /** Every connection handed to piscina and not finished, by its task. */
  const tasks = new Map<Promise<void>, AcceptedMsg>();
  let pool: Pool | undefined;
  let acceptorExit: Promise<void> = Promise.resolve();
  let listenFd = -1;
  let threadsPeak = 0;
  /**
   * Pool threads that exited before close() (idle timeout, a dying thread):
   * churn the cell pays for, as each is started again when needed.
   */
  let threadsExited = 0;
  let closing: Promise<void> | undefined;
  /** What the prestart cost; notReady: threads still loading when its deadline passed. */
  let startup = { ms: 0, threads: 0, notReady: 0 };

  /** Accepted connections not yet handed to piscina (see pump). */
  const backlog: AcceptedMsg[] = [];
  /**
   * threadIds of the live pool threads that have loaded their modules
   * (connection.ts posts one message per thread): a task handed to piscina
   * while fewer tasks are in it than these goes to a loaded thread; every
   * task beyond makes a thread start (or waits for one that is starting).
   *
   * Kept per thread, and pruned against piscina's live threads when one
   * exits, because piscina also starts threads that never run a task (it
   * starts one per task it cannot place, and a thread freed meanwhile often
   * takes that task): such a thread never loads, and when it exits idle it
   * must not be subtracted. A plain "loaded − destroyed" count drifted down
   * by one per such thread, until pump handed piscina nothing at all and
   * the backlog (and with it the acceptor's in-flight bound) stayed full
   * for good: every new connection refused.
   */
  const loaded = new Set<number>();
  let pruneQueued = false;

  /**
   * Close a connection no thread took, unless a thread or an earlier call
   * got to it first (table.claimQueued). Returns whether this call closed it.
   */
  const neverServed = (m: AcceptedMsg): boolean => {
    if (!table.claimQueued(m.fd, m.id)) return false;
    const waitUs = Math.max(0, nowUs() - m.acceptedUs);
    waits.push(waitUs);
    if (waitUs > STARVED_US) table.bump(CAP_COUNTERS.starved);
    table.bump('pool: never served');
    table.bump('closed');
    table.release(m.fd, (fd) => closeFd(fd));
    return true;
  };

  const run = (p: Pool, m: AcceptedMsg): void => {
    const task = p.run({ ...m, data: threadData }).then(
      (r) => {
        if (r.closeInMain === true) neverServed(m);
        else waits.push(r.waitUs);
      },
      (err: unknown) => {
        // Stopping: pool.destroy() ends the tasks no thread took yet, whose
        // connections doClose has closed (else this does).
        if (table.stopping) {
          neverServed(m);
          return;
        }
        // The thread died under the task (or piscina refused it): close the
        // connection it held, count it, keep serving.
        table.bump('errors: worker');
        if (table.firstLog(LOG_WORKER)) process.stderr.write(`iomodels: blocking worker failed (connection closed; further ones only counted): ${String(err)}\n`);
        // Only if the slot still holds this connection (a dead owner cannot
        // have closed it; a finished one may have, and the fd be reused).
        if (table.id(m.fd) === m.id && table.state(m.fd) !== FREE) {
          table.shutdownLive(m.fd, (fd) => shutdown(fd, SHUT_RDWR));
          table.release(m.fd, (fd) => closeFd(fd));
          table.bump('closed');
        }
      },
    );
    const tracked = task.finally(() => {
      table.addInFlight(-1);
      tasks.delete(tracked);
      pump();
    });
    tasks.set(tracked, m);
    threadsPeak = Math.max(threadsPeak, p.threads.length);
  };

  /**
   * Hand waiting connections to piscina: at once when a pool thread is free
   * (or one that is starting will take it), and otherwise let it start a new
   * thread, but only MAX_STARTING at a time. piscina would start one per
   * queued task at once; a storm of hundreds of isolates starting together
   * starves the running connections of CPU.
   */
  function pump(): void {
    const p = pool;
    if (p === undefined) return;
    while (backlog.length > 0) {
      if (table.stopping) {
        for (const m of backlog.splice(0)) {
          neverServed(m);
          table.addInFlight(-1);
        }
        return;
      }
      // piscina starts a new thread for every task it cannot hand to a
      // loaded one at once: never give it more than MAX_STARTING such tasks.
      // `loaded.size` is never negative, so with fewer than MAX_STARTING
      // tasks in the pool a waiting connection is always handed over: the
      // backlog cannot stall whatever the count says. It moves on when a
      // task ends or a thread reports loaded: both call pump.
      if (tasks.size >= Math.min(bo.maxThreads, loaded.size + MAX_STARTING)) break;
      const m = backlog.shift();
      if (m !== undefined) run(p, m);
    }
  }

  /** Forget loaded threads piscina no longer has (see `loaded`). */
  function pruneLoaded(): void {
    pruneQueued = false;
    const p = pool;
    if (p === undefined) return;
    const live = new Set(p.threads.map((w) => w.threadId));
    for (const id of loaded) if (!live.has(id)) loaded.delete(id);
  }

  /**
   * Load every prestarted thread (`prestart` of them, piscina's minThreads,
   * so idleTimeout never reaps them): one LoadTask each. piscina starts
   * minThreads threads together and counts them ready at once, and its
   * balancer hands a task to the first thread running none, so the tasks
   * posted here go one to a thread. They start all at once, not MAX_STARTING
   * at a time as in pump: no connection is running yet for a storm of
   * starting isolates to starve, and starting them in waves was no faster.
   */
  async function prestartThreads(p: Pool, t0: number): Promise<void> {
    if (prestart === 0) return;
    const ready = new Set<number>();
    const loads = Array.from({ length: prestart }, () =>
      runLoad(p, { data: threadData }).then(
        (r) => {
          if (r.loadedThread < 0 || !isLive(p, r.loadedThread)) return;
          ready.add(r.loadedThread);
          // Also here, not only on its LoadedMsg: that one travels on another
          // port and may arrive later; pump counts the thread from now on.
          loaded.add(r.loadedThread);
        },
        // The thread died, or close() destroyed the pool: not ready.
        () => undefined,
      ),
    );
    const deadlineMs = bo.prestartTimeoutMs ?? PRESTART_BASE_MS + PRESTART_PER_THREAD_MS * prestart;
    await Promise.race([Promise.all(loads), delay(deadlineMs)]);
    startup = { ms: performance.now() - t0, threads: prestart, notReady: prestart - ready.size };
    threadsPeak = Math.max(threadsPeak, p.threads.length);
    pump();
  }

  const dispatch = (m: AcceptedMsg): void => {
    if (pool === undefined || table.stopping) {
      // Accepted just as we stopped: no thread will ever take it.
      neverServed(m);
      table.addInFlight(-1);
      return;
    }
    backlog.push(m);
    pump();
  };

  const shutdownAllLive = (): void => {
    const high = Math.min(table.highFd, table.capacity);
    for (let fd = 0; fd < high; fd++) table.shutdownLive(fd, (f) => shutdown(f, SHUT_RDWR));
  };

  async function doClose(): Promise<void> {
    const deadline = performance.now() + CLOSE_BUDGET_MS;
    table.stop();
    if (listenFd >= 0) {
      // Wakes the acceptor's accept(2) with EINVAL (Linux).
      shutdown(listenFd, SHUT_RDWR);
      await Promise.race([acceptorExit, delay(ACCEPTOR_EXIT_MS)]);
      // Where shutdown does not wake accept (BSD) the acceptor holds no
      // connection; it ends with the process.
    }
    // Waiting connections are closed unserved, here: those in the backlog
    // (pump) and those piscina holds for a thread that is still starting or
    // busy. Starting a thread only to close one is what made a stop during a
    // burst slow. A thread that takes such a task finds it claimed.
    pump();
    const serving: Promise<void>[] = [];
    for (const [t, m] of tasks) if (!neverServed(m)) serving.push(t);
    // Every blocked recv/send returns: the serving threads finish.
    shutdownAllLive();
    const drained = Promise.allSettled(serving).then(() => undefined);
    await Promise.race([drained, delay(Math.max(0, deadline - performance.now()))]);
    // Anything registered after the first sweep (a message in flight).
    shutdownAllLive();
    // Never terminate a thread inside koffi's initialization (connection.ts);
    // `stopping` keeps new ones out, so this wait is one load at most.
    while (table.loading > 0 && performance.now() < deadline + 150) await delay(2);
    if (pool !== undefined) await Promise.race([pool.destroy(), delay(Math.max(50, deadline - performance.now()))]);
    if (listenFd >= 0) {
      closeFd(listenFd);
      listenFd = -1;
    }
  }

  return {
    name: 'blocking',
    counters(): ServerCounters {
      const out: ServerCounters = {};
      for (const name of COUNTER_NAMES) {
        const v = table.counter(name);
        if (v !== 0 || name === 'accepted' || name === CAP_COUNTERS.poolFull) out[name] = v;
      }
      const sorted = [...waits].sort((a, b) => a - b);
      out['pool: max threads'] = bo.maxThreads;
      out['pool: max queue'] = bo.maxQueue;
      out['pool: threads peak'] = table.busyPeak;
      out['pool: threads started peak'] = threadsPeak;
      out['pool: threads exited'] = threadsExited;
      out['pool: queued peak'] = Math.max(0, table.queuedPeak);
      out['pool: queue wait p50 us'] = percentile(sorted, 50);
      out['pool: queue wait p99 us'] = percentile(sorted, 99);
      out['pool: queue wait max us'] = sorted.at(-1) ?? 0;
      out['startup: threads'] = startup.threads;
      out['startup: ms'] = Math.round(startup.ms);
      out['startup: threads not ready'] = startup.notReady;
      return out;
    },
    servingLimit(): number {
      return bo.maxThreads;
    },
    serving(): number {
      return table.busy;
    },
    startup(): { ms: number; threads: number } {
      return { ms: startup.ms, threads: startup.threads };
    },
    async listen(host, port) {
      const t0 = performance.now();
      // Blocking listener: the acceptor sleeps in accept(2). SysError
      // (code EADDRINUSE …) becomes a one-line message in `serve`.
      const l = await listenTcp(host, port, opts, { blocking: true });
      // close() ran while the socket was being made: it found nothing to
      // stop, so nothing may start now (an acceptor started after it would
      // sleep in accept(2) on a listener no one shuts down, and keep the
      // process alive).
      if (table.stopping) {
        closeFd(l.fd);
        throw new Error('blocking: the server was closed while it was starting');
      }
      listenFd = l.fd;
      pool = new Piscina<ConnectionTask, ConnectionResult>({
        filename: CONNECTION_URL,
        name: 'serveConnection',
        // The prestarted threads, kept for the server's life (prestartThreads).
        minThreads: Math.max(1, prestart),
        maxThreads: bo.maxThreads,
        idleTimeout: bo.idleTimeoutMs,
        // The acceptor enforces max-threads + max-queue; piscina's own limit
        // would only race it.
        maxQueue: Infinity,
        recordTiming: false,
      });
      const p = pool;
      p.on('message', (m: unknown) => {
        // A thread that died since it posted this is not counted.
        if (!isLoadedMsg(m) || !isLive(p, m.blockingThreadLoaded)) return;
        loaded.add(m.blockingThreadLoaded);
        pump();
      });
      p.on('workerDestroy', () => {
        if (!table.stopping) threadsExited++;
        // piscina emits this before it drops the thread from p.threads (and
        // an exited thread's threadId already reads -1): prune right after.
        if (pruneQueued) return;
        pruneQueued = true;
        queueMicrotask(pruneLoaded);
      });
      const a = new Worker(ACCEPTOR_URL, {
        workerData: { ...threadData, listenFd: l.fd, maxInFlight: bo.maxThreads + bo.maxQueue } satisfies ThreadData,
      });
      acceptorExit = new Promise((resolve) => a.once('exit', () => resolve()));
      // Resolve once the acceptor has loaded koffi: a thread must not be
      // terminated (process.exit) while koffi initializes (connection.ts).
      const ready = new Promise<void>((resolve, reject) => {
        a.once('error', reject);
        a.once('exit', () => reject(new Error('blocking: acceptor exited before ready')));
        a.on('message', (m: AcceptedMsg | 'ready') => {
          if (m === 'ready') resolve();
          else dispatch(m);
        });
      });
      a.on('error', (err) => {
        table.bump('errors: accept');
        process.stderr.write(`iomodels: blocking acceptor failed: ${err.message}\n`);
      });
      const prestarted = prestartThreads(p, t0);
      await Promise.all([ready, prestarted]);
      return { host: l.host, port: l.port };
    },
    close() {
      closing ??= doClose();
      return closing;
    },
  };
}
