/**
 * The body of a pool thread's task (loaded behind connection.ts's gate):
 * serve one connection from its first byte to EOF with
 * blocking syscalls. The thread sleeps in recv(2) until the kernel has data
 * (phase 1) and the kernel copies it into our buffer before recv returns
 * (phase 2); replies go out through blocking send(2), which sleeps while
 * the peer's window is full. The task lasts as long as the connection, so
 * the pool thread is this connection's thread for its whole life.
 */
import { loadProtocol } from '../protocol-loader.js';
import {
  allocBuffer,
  close,
  ECONNRESET,
  EPIPE,
  NEG_EAGAIN,
  NEG_EINTR,
  recv,
  send,
  setsockoptTimeout,
  shutdown,
  SHUT_RDWR,
  SHUT_WR,
  SO_RCVTIMEO,
} from '../sys/index.js';
import type { Conn, Hub, Protocol, Session } from '../../core/protocol.js';
import { isThreadData, type ConnectionResult, type ConnectionTask, type ThreadData } from './config.js';
import { ConnTable, isMember, LOG_PROTOCOL, LOG_WORKER, nowUs, STARVED_US } from './table.js';
import { CAP_COUNTERS } from '../../core/counters.js';

const RECV_BUFFER = 64 * 1024;
/** A protocol with tick() gets recv woken this often (SO_RCVTIMEO) while idle. */
const TICK_MS = 1000;
/** After conn.close(): how long we drain the peer's bytes waiting for its FIN. */
const LINGER_MS = 2000;

interface ThreadState {
  readonly data: ThreadData;
  readonly table: ConnTable;
  readonly protocol: Protocol;
  readonly hub: Hub;
  readonly buf: Buffer;
}

let state: ThreadState | undefined;

async function threadState(data: unknown): Promise<ThreadState> {
  if (state !== undefined) return state;
  // Config rides on every task rather than piscina's workerData, so a pool
  // thread never loads piscina's main module: thread start-up is the cost
  // this strategy pays per connection.
  if (!isThreadData(data)) throw new Error('blocking: connection task without its thread data');
  const table = new ConnTable(data.sab);
  // The spec names its module: this thread loads it and nothing else of the workloads.
  const protocol = await loadProtocol(data.spec);
  state = { data, table, protocol, hub: new SharedHub(table), buf: allocBuffer(RECV_BUFFER) };
  return state;
}

/**
 * Prestart (connection.ts's loadThread): the protocol and the receive
 * buffer too, so the thread's first connection starts with its first recv.
 */
export async function prepareThread(data: ThreadData): Promise<void> {
  await threadState(data);
}

const closeFd = (fd: number): void => {
  close(fd);
};


function logOnce(table: ConnTable, kind: number, what: string, err: unknown): void {
  if (!table.firstLog(kind)) return;
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`iomodels: ${what} (connection closed; further ones only counted): ${msg}\n`);
}

type SendOutcome = 'ok' | 'timeout' | 'gone';

/** Blocking send of every byte; SO_SNDTIMEO turns a stuck peer into 'timeout'. */
function sendAll(fd: number, bytes: Uint8Array, off: number, len: number): SendOutcome {
  const end = off + len;
  while (off < end) {
    const n = send(fd, bytes, off, end - off);
    if (n > 0) off += n;
    else if (n === NEG_EINTR) continue;
    else if (n === NEG_EAGAIN) return 'timeout';
    else return 'gone';
  }
  return 'ok';
}

/**
 * Send one message to the connection on `fd`, whichever thread owns it (or
 * none yet: it waits for one), under its write lock. A send timeout dooms
 * the connection (its owner is woken by the shutdown and closes it; a
 * thread that takes it later finds it shut down).
 */
function sendTo(table: ConnTable, fd: number, bytes: Uint8Array, off: number, len: number): void {
  table.lock(fd);
  try {
    if (!isMember(table.state(fd))) return;
    const r = sendAll(fd, bytes, off, len);
    if (r === 'timeout' && table.doom(fd)) {
      table.bump('closed: send timeout');
      shutdown(fd, SHUT_RDWR);
    }
  } finally {
    table.unlock(fd);
  }
}

/**
 * Hub across threads: broadcast scans the shared table and sends to every
 * member under its lock, those still waiting for a thread included (they
 * joined at accept). The sender's thread blocks for each slow receiver in
 * turn: that is blocking IO's price for fan-out.
 */
class SharedHub implements Hub {
  readonly #table: ConnTable;
  constructor(table: ConnTable) {
    this.#table = table;
  }
  get size(): number {
    return this.#table.hubSize;
  }
  broadcast(bytes: Uint8Array): void {
    const t = this.#table;
    const high = Math.min(t.highFd, t.capacity);
    for (let fd = 0; fd < high; fd++) {
      if (isMember(t.state(fd))) sendTo(t, fd, bytes, 0, bytes.length);
    }
  }
}

/** The task, once this thread has loaded koffi (see connection.ts). */
export async function serveConnection(task: ConnectionTask): Promise<ConnectionResult> {
  const waitUs = Math.max(0, nowUs() - task.acceptedUs);
  const st = await threadState(task.data);
  const { table } = st;
  if (waitUs > STARVED_US) table.bump(CAP_COUNTERS.starved);
  if (table.stopping || !table.open(task.fd)) {
    // The server stopped while this connection waited for a thread. The
    // main thread closes every such connection itself (index.ts, doClose);
    // close it here only if we get to it first.
    if (table.claimQueued(task.fd, task.id)) {
      table.bump('pool: never served');
      table.bump('closed');
      table.release(task.fd, closeFd);
    }
    return { waitUs, served: false };
  }
  table.bump('pool: served');
  table.addBusy(1);
  try {
    serve(st, task);
  } catch (err) {
    // Our own bug, not the protocol's: still only this connection pays.
    table.bump('errors: worker');
    logOnce(table, LOG_WORKER, 'blocking worker error', err);
  } finally {
    table.release(task.fd, closeFd);
    table.bump('closed');
    table.addBusy(-1);
  }
  return { waitUs, served: true };
}

function serve(st: ThreadState, task: ConnectionTask): void {
  const { table, buf } = st;
  const fd = task.fd;
  let closing = false;
  let lingerUntil = 0;
  const conn: Conn = {
    id: task.id,
    write(bytes) {
      if (closing) return;
      // Echo hands back a view of our receive buffer: send from it by offset
      // rather than asking FFI for the address of a fresh view each time.
      if (bytes.buffer === buf.buffer) sendTo(table, fd, buf, bytes.byteOffset - buf.byteOffset, bytes.length);
      else sendTo(table, fd, bytes, 0, bytes.length);
    },
    close() {
      if (closing) return;
      closing = true;
      // Sends are synchronous, so nothing is queued: leave the Hub, send FIN,
      // then drain until the peer's FIN (a lingering close, so unread input
      // does not turn our close into an RST that destroys the reply).
      table.lock(fd);
      table.doom(fd);
      table.unlock(fd);
      shutdown(fd, SHUT_WR);
      lingerUntil = Date.now() + LINGER_MS;
      setsockoptTimeout(fd, SO_RCVTIMEO, LINGER_MS);
    },
  };

  // TCP_NODELAY and SO_SNDTIMEO were set by the acceptor: broadcasts may
  // have been sent to this socket before this thread took it.
  let session: Session;
  try {
    session = st.protocol.open(conn, st.hub);
  } catch (err) {
    protocolFault(table, err);
    return;
  }
  const ticking = session.tick !== undefined;
  if (ticking) setsockoptTimeout(fd, SO_RCVTIMEO, TICK_MS);
  let lastTick = Date.now();

  for (;;) {
    const n = recv(fd, buf, 0, buf.length);
    if (n > 0) {
      if (!closing) {
        try {
          session.onData(buf.subarray(0, n));
        } catch (err) {
          protocolFault(table, err);
          break;
        }
      }
    } else if (n === 0) {
      break;
    } else if (n === NEG_EINTR) {
      continue;
    } else if (n !== NEG_EAGAIN) {
      // ECONNRESET, or an error after a shutdown: the socket is done.
      if (n !== -ECONNRESET && n !== -EPIPE) table.bump('errors: socket');
      break;
    }
    // Data, or SO_RCVTIMEO expired (EAGAIN): deadlines.
    const now = Date.now();
    if (closing) {
      if (now >= lingerUntil) break;
      continue;
    }
    if (ticking && now - lastTick >= TICK_MS) {
      lastTick = now;
      try {
        session.tick?.(now);
      } catch (err) {
        protocolFault(table, err);
        break;
      }
    }
  }
  try {
    session.onClose();
  } catch (err) {
    protocolFault(table, err);
  }
}

function protocolFault(table: ConnTable, err: unknown): void {
  table.bump('errors: protocol');
  logOnce(table, LOG_PROTOCOL, 'protocol error', err);
}
