/**
 * The acceptor thread: sleeps in a blocking accept(2) on the listening
 * socket, registers each new fd in the shared table (where it joins the
 * chat group at once, as the seed's ChatServer registers a connection at
 * accept) and hands it to the main thread for the pool. It lives in its own thread so that the main
 * thread's event loop stays free for signals and pool bookkeeping.
 *
 * The pool's bound is enforced here, at accept time: a connection that
 * finds max-threads + max-queue connections already in flight is closed at
 * once and counted ("refused: thread pool full"), the bounded BIO server's
 * answer to overload.
 *
 * It ends when the main thread shuts the listening socket down (accept then
 * fails with EINVAL) and sets the table's stopping flag.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { accept, close, EBADF, EINVAL, EMFILE, ENFILE, ENOBUFS, ENOMEM, NEG_EINTR, setNoDelay, setsockoptTimeout, SO_SNDTIMEO } from '../sys/index.js';
import { isThreadData, type AcceptedMsg } from './config.js';
import { ConnTable, nowUs } from './table.js';
import { CAP_COUNTERS } from '../../core/counters.js';

const data: unknown = workerData;
if (!isThreadData(data) || data.listenFd === undefined || data.maxInFlight === undefined || parentPort === null) {
  throw new Error('blocking: acceptor started without its workerData');
}
const port = parentPort;
const table = new ConnTable(data.sab);
const listenFd = data.listenFd;
const maxInFlight = data.maxInFlight;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let nextId = 1;
port.postMessage('ready');

for (;;) {
  const fd = accept(listenFd, true);
  const acceptedUs = nowUs();
  if (table.stopping) {
    if (fd >= 0) close(fd);
    break;
  }
  if (fd < 0) {
    if (fd === NEG_EINTR) continue;
    if (fd === -EINVAL || fd === -EBADF) break; // the listener is gone
    table.bump('errors: accept');
    // Out of fds or memory: the connection stays in the backlog; back off
    // instead of spinning on the same error.
    if (fd === -EMFILE || fd === -ENFILE || fd === -ENOBUFS || fd === -ENOMEM) Atomics.wait(sleeper, 0, 0, 10);
    continue;
  }
  table.bump('accepted');
  if (fd >= table.capacity) {
    close(fd);
    table.bump(CAP_COUNTERS.fdTableFull);
    continue;
  }
  if (table.inFlight >= maxInFlight) {
    close(fd);
    table.bump(CAP_COUNTERS.poolFull);
    continue;
  }
  // It joins the Hub now (register), before any thread serves it: a
  // broadcast may be sent to it from this moment, so the send timeout that
  // bounds a stuck receiver must already be on the socket.
  try {
    setNoDelay(fd);
    setsockoptTimeout(fd, SO_SNDTIMEO, data.sendTimeoutMs);
  } catch {
    // The socket is unusable (the kernel refused an option on it): this
    // connection alone pays; the acceptor must not die of it.
    close(fd);
    table.bump('errors: socket');
    continue;
  }
  table.addInFlight(1);
  const id = nextId++;
  table.register(fd, id);
  const msg: AcceptedMsg = { fd, id, acceptedUs };
  port.postMessage(msg);
}
