/**
 * `iomodels micro`: tinybench micro-benchmarks that explain the sweep.
 *
 * Readiness-wait cost vs watched fds: N idle sockets plus one ready fd, and
 * one select/poll/epoll call that returns the ready one. select and poll
 * hand the kernel every fd on every call and the kernel scans them all, so
 * their cost grows with N; epoll's interest list lives in the kernel and
 * epoll_wait only looks at the ready list, so its cost stays flat (the shape
 * of Kerrisk's TLPI table 63-9). sigio has no such call: a plain SIGIO
 * names no fd, so the server recv()s every socket after each signal; its
 * point is that scan (N recv → EAGAIN, the ready fd read and refilled),
 * without the signal delivery itself. For scale: the cost of one FFI call
 * and of a non-blocking recv that returns EAGAIN.
 */
import { Bench } from 'tinybench';
import * as sys from '../strategies/sys/index.js';
import { machineInfo } from './machine.js';
import { MICRO_SCHEMA_VERSION, type MicroResults, type WaitMechanism, type WaitPoint } from '../core/micro.js';

export interface MicroOptions {
  /** Idle fd counts to measure. */
  counts: readonly number[];
  timeMs: number;
  /** Extra op benchmarks (e.g. HTTP parse) contributed by workloads. */
  extraOps?: readonly { name: string; fn: () => void }[];
}

export const DEFAULT_MICRO_COUNTS = [10, 100, 1000, 10_000] as const;

/** Idle sockets: UDP sockets nobody sends to are never readable (non-blocking: sigio recv()s them). */
function idleSockets(n: number, maxFd: number): number[] {
  const fds: number[] = [];
  for (let i = 0; i < n; i++) {
    const fd = sys.socket(sys.AF_INET, sys.SOCK_DGRAM | sys.SOCK_CLOEXEC);
    sys.setNonBlocking(fd, true);
    if (fd > maxFd) {
      sys.close(fd);
      break;
    }
    fds.push(fd);
  }
  return fds;
}

function closeAll(fds: readonly number[]): void {
  for (const fd of fds) sys.close(fd);
}

async function measure(name: string, fn: () => void, timeMs: number): Promise<{ ns: number; rme: number }> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(100, timeMs) });
  bench.add(name, fn);
  await bench.run();
  const task = bench.tasks[0];
  const r = task?.result;
  if (r === undefined || !('latency' in r)) throw new Error(`micro-benchmark ${name} produced no result`);
  return { ns: r.latency.mean * 1e6, rme: r.latency.rme };
}

/** One benchmark over `idle` + the ready read end of a pipe (`refill` is its write end). */
async function waitBench(mechanism: WaitMechanism, idle: readonly number[], ready: number, refill: number, timeMs: number): Promise<WaitPoint> {
  const all = [ready, ...idle];
  let fn: () => void;
  let cleanup = (): void => undefined;
  if (mechanism === 'select') {
    const template = new sys.FdSet();
    for (const fd of all) template.set(fd);
    const work = new sys.FdSet();
    const nfds = Math.max(...all) + 1;
    fn = () => {
      work.copyFrom(template);
      if (sys.select(nfds, work.bits, null, 0) !== 1) throw new Error('select did not report exactly the ready fd');
    };
  } else if (mechanism === 'poll') {
    const arr = sys.allocBuffer(all.length * sys.POLLFD_SIZE);
    for (const [i, fd] of all.entries()) {
      arr.writeInt32LE(fd, i * sys.POLLFD_SIZE);
      arr.writeInt16LE(sys.POLLIN, i * sys.POLLFD_SIZE + 4);
    }
    fn = () => {
      if (sys.poll(arr, all.length, 0) !== 1) throw new Error('poll did not report exactly the ready fd');
    };
  } else if (mechanism === 'sigio') {
    const buf = sys.allocBuffer(64);
    fn = () => {
      // What the sigio strategy's drain does per signal: try every socket.
      for (const fd of idle) if (sys.recv(fd, buf, 0, 64) !== sys.NEG_EAGAIN) throw new Error('an idle socket was not EAGAIN');
      if (sys.read(ready, buf, 0, 64) !== 1) throw new Error('the ready fd had not exactly one byte');
      if (sys.write(refill, buf, 0, 1) !== 1) throw new Error('could not refill the ready fd');
    };
  } else {
    const ep = sys.epollCreate();
    for (const fd of all) sys.epollCtl(ep, sys.EPOLL_CTL_ADD, fd, sys.EPOLLIN, fd);
    const ev = sys.allocBuffer(64 * sys.EPOLL_EVENT_SIZE);
    fn = () => {
      if (sys.epollWait(ep, ev, 64, 0) !== 1) throw new Error('epoll_wait did not report exactly the ready fd');
    };
    cleanup = () => sys.close(ep);
  }
  try {
    fn(); // fail fast, outside tinybench, if the setup is wrong
    const { ns, rme } = await measure(`${mechanism} ${all.length}`, fn, timeMs);
    return { mechanism, fds: all.length, nsPerWait: ns, rme };
  } finally {
    cleanup();
  }
}

export async function runMicro(o: MicroOptions, log: (line: string) => void): Promise<MicroResults> {
  const out: MicroResults = {
    schemaVersion: MICRO_SCHEMA_VERSION,
    kind: 'iomodels-micro',
    startedAt: new Date().toISOString(),
    machine: machineInfo(),
    timeMs: o.timeMs,
    wait: [],
    ops: [],
    notes: [],
  };
  const mechanisms: WaitMechanism[] = ['select', 'poll'];
  if (sys.HAVE_EPOLL) mechanisms.push('epoll');
  else out.notes.push('epoll: not available on this platform');
  mechanisms.push('sigio');
  out.notes.push('sigio: the scan one SIGIO forces (a recv() on every socket, the ready fd read and refilled), without the signal delivery itself');

  // The ready fd: a pipe holding one unread byte is readable forever.
  const [readEnd, writeEnd] = sys.pipe();
  sys.write(writeEnd, Buffer.of(1), 0, 1);
  try {
    for (const n of o.counts) {
      for (const m of mechanisms) {
        // select can only watch fds below FD_SETSIZE: past it, measure as
        // many as fit and say so, rather than write past the bitmap.
        const maxFd = m === 'select' ? sys.FD_SETSIZE - 1 : Number.MAX_SAFE_INTEGER;
        const idle = idleSockets(n, maxFd);
        try {
          if (m === 'select' && idle.length < n) {
            if (idle.length < n * 0.9) {
              out.notes.push(`select: ${n} idle fds do not fit below FD_SETSIZE (${sys.FD_SETSIZE}); not measured`);
              continue;
            }
            out.notes.push(`select: ${n} idle fds requested, ${idle.length} fit below FD_SETSIZE (${sys.FD_SETSIZE})`);
          }
          const p = await waitBench(m, idle, readEnd, writeEnd, o.timeMs);
          out.wait.push(p);
          log(`wait ${m.padEnd(6)} ${String(p.fds).padStart(6)} fds: ${p.nsPerWait.toFixed(0)} ns/wait (±${p.rme.toFixed(1)}%)`);
        } finally {
          closeAll(idle);
        }
      }
    }
  } finally {
    sys.close(readEnd);
    sys.close(writeEnd);
  }

  // Context: what one trip through koffi costs next to a JS property read,
  // and what a recv that finds nothing costs (busy-poll pays it per fd).
  const idle = sys.socket(sys.AF_INET, sys.SOCK_DGRAM | sys.SOCK_CLOEXEC);
  sys.setNonBlocking(idle, true);
  const buf = sys.allocBuffer(64);
  let sink = 0;
  const ops: { name: string; fn: () => void }[] = [
    // The harness's own floor (mitata's habit): every figure includes it.
    { name: 'no-op (tinybench floor)', fn: () => (sink ^= 1) },
    { name: 'process.pid (JS property)', fn: () => (sink ^= process.pid) },
    { name: 'getpid() via koffi', fn: () => (sink ^= sys.getpid()) },
    {
      name: 'recv() → EAGAIN via koffi',
      fn: () => {
        if (sys.recv(idle, buf, 0, 64) !== sys.NEG_EAGAIN) throw new Error('recv on an idle socket did not return EAGAIN');
      },
    },
    ...(o.extraOps ?? []),
  ];
  try {
    for (const op of ops) {
      const { ns, rme } = await measure(op.name, op.fn, o.timeMs);
      out.ops.push({ name: op.name, nsPerOp: ns, rme });
      log(`op   ${op.name}: ${ns.toFixed(1)} ns (±${rme.toFixed(1)}%)`);
    }
  } finally {
    sys.close(idle);
  }
  if (sink === 0.5) log('');
  return out;
}
