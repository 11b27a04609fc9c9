/**
 * libc through koffi: the only place in iomodels that makes FFI calls.
 *
 * Conventions:
 * - Setup calls (socket, bind, listen, epoll_create1 …) throw SysError.
 * - Hot-path calls (accept, recv, send, poll, select, epoll_wait, kevent,
 *   close …) return a number: >= 0 on success, -errno on failure, so EAGAIN
 *   is a value (`rc === -EAGAIN`) and nothing is thrown or allocated.
 * - Buffers are passed to C as raw addresses (a JS number: user-space
 *   addresses fit in 53 bits), so recv/send can take buffer + offset +
 *   length without creating a subarray per call. Every such call checks the
 *   range against the Buffer's length first, so a bad offset is a RangeError
 *   and never a write past the end.
 *
 * Every function is usable from any thread: each worker_thread imports this
 * module afresh and so loads its own koffi instance and libc handle, and a
 * koffi sync call holds no lock while C blocks, so blocking accept/recv in a
 * worker stalls only that worker.
 */
import * as koffi from 'koffi';
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EPOLL_CLOEXEC,
  EPOLL_DATA_OFFSET,
  EPOLL_EVENT_SIZE,
  FD_CLOEXEC,
  F_GETFL,
  F_OWNER_TID,
  F_SETFD,
  F_SETFL,
  F_GETOWN_EX,
  F_SETOWN_EX,
  IPPROTO_TCP,
  MSG_NOSIGNAL,
  O_CLOEXEC,
  O_NONBLOCK,
  PLATFORM,
  SIG_BLOCK,
  SIG_UNBLOCK,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
  SO_ERROR,
  SO_LINGER,
  SO_NOSIGPIPE,
  SO_REUSEADDR,
  SO_SNDBUF,
  TCP_NODELAY,
} from './constants.js';
import { EAGAIN, EINPROGRESS, EINTR, ENOSYS, SysError } from './errors.js';
import { decodeSockAddr, encodeSockAddr, familyOf, type SockAddr } from './sockaddr.js';

type Fn = (...args: any[]) => any;

function loadLibc(): koffi.LibraryHandle {
  const candidates =
    PLATFORM === 'darwin'
      ? ['libc.dylib', '/usr/lib/libSystem.B.dylib']
      : PLATFORM === 'freebsd'
        ? ['libc.so.7']
        : ['libc.so.6', 'libc.so', `libc.musl-${process.arch === 'x64' ? 'x86_64' : 'aarch64'}.so.1`];
  let last: unknown;
  for (const name of candidates) {
    try {
      return koffi.load(name);
    } catch (err) {
      last = err;
    }
  }
  throw new Error(`cannot load libc (${candidates.join(', ')}): ${String(last)}`);
}

const lib = loadLibc();

/** Bind a function that this platform may not have (epoll, kqueue, accept4). */
function optional(decl: string): Fn | undefined {
  try {
    return lib.func(decl) as Fn;
  } catch {
    return undefined;
  }
}

function required(decl: string): Fn {
  return lib.func(decl) as Fn;
}

// Pointer parameters are declared intptr_t and given raw addresses (see top).
const c_socket = required('int socket(int domain, int type, int protocol)');
const c_setsockopt = required('int setsockopt(int fd, int level, int name, intptr_t value, uint32_t len)');
const c_getsockopt = required('int getsockopt(int fd, int level, int name, intptr_t value, intptr_t len)');
const c_bind = required('int bind(int fd, intptr_t addr, uint32_t len)');
const c_listen = required('int listen(int fd, int backlog)');
const c_accept = required('int accept(int fd, intptr_t addr, intptr_t len)');
const c_accept4 = optional('int accept4(int fd, intptr_t addr, intptr_t len, int flags)');
const c_connect = required('int connect(int fd, intptr_t addr, uint32_t len)');
const c_getsockname = required('int getsockname(int fd, intptr_t addr, intptr_t len)');
const c_getpeername = required('int getpeername(int fd, intptr_t addr, intptr_t len)');
const c_recv = required('intptr_t recv(int fd, intptr_t buf, size_t len, int flags)');
const c_send = required('intptr_t send(int fd, intptr_t buf, size_t len, int flags)');
const c_read = required('intptr_t read(int fd, intptr_t buf, size_t len)');
const c_write = required('intptr_t write(int fd, intptr_t buf, size_t len)');
const c_shutdown = required('int shutdown(int fd, int how)');
const c_close = required('int close(int fd)');
const c_fcntl = required('int fcntl(int fd, int cmd, ...)');
const c_pipe = required('int pipe(intptr_t fds)');
const c_pipe2 = optional('int pipe2(intptr_t fds, int flags)');
const c_eventfd = optional('int eventfd(unsigned int initval, int flags)');
const c_select = required('int select(int nfds, intptr_t readfds, intptr_t writefds, intptr_t exceptfds, intptr_t timeout)');
const c_poll = required(`int poll(intptr_t fds, ${PLATFORM === 'linux' ? 'unsigned long' : 'unsigned int'} nfds, int timeout)`);
const c_epoll_create1 = optional('int epoll_create1(int flags)');
const c_epoll_ctl = optional('int epoll_ctl(int epfd, int op, int fd, intptr_t event)');
const c_epoll_wait = optional('int epoll_wait(int epfd, intptr_t events, int maxevents, int timeout)');
const c_kqueue = optional('int kqueue()');
const c_kevent = optional(
  'int kevent(int kq, intptr_t changelist, int nchanges, intptr_t eventlist, int nevents, intptr_t timeout)',
);
const c_getpid = required('int getpid()');
// glibc >= 2.30; elsewhere the caller falls back to the process as a whole.
const c_gettid = optional('int gettid()');
// In libc.so.6 since glibc 2.34 (libpthread before).
const c_pthread_sigmask = optional('int pthread_sigmask(int how, intptr_t set, intptr_t oldset)');

// ---------------------------------------------------------------------------
// Addresses of Buffers

let lastBuf: Uint8Array | undefined;
let lastAddr = 0;
const addrCache = new WeakMap<Uint8Array, number>();

/**
 * The C address of `buf`'s first byte. Reading `.buffer` first moves a small
 * typed array's bytes off the V8 heap (where the GC could move them) into a
 * fixed backing store; ArrayBuffer backing stores never move after that.
 * Cached, with a one-entry fast path for the buffer a loop reuses.
 */
export function addressOf(buf: Uint8Array): number {
  if (buf === lastBuf) return lastAddr;
  let a = addrCache.get(buf);
  if (a === undefined) {
    if (buf.buffer.byteLength < buf.byteOffset + buf.length) throw new RangeError('detached buffer');
    a = Number(koffi.address(buf));
    addrCache.set(buf, a);
  }
  lastBuf = buf;
  lastAddr = a;
  return a;
}

/** A Buffer with its own ArrayBuffer (never a slice of Node's shared pool). */
export function allocBuffer(size: number): Buffer {
  return Buffer.from(new ArrayBuffer(size));
}

function checkRange(buf: Uint8Array, off: number, len: number): void {
  if (!(off >= 0 && len >= 0 && off + len <= buf.length)) {
    throw new RangeError(`range [${off}, ${off + len}) outside a buffer of ${buf.length} bytes`);
  }
}

/** The calling thread's current errno. */
export function errno(): number {
  return koffi.errno();
}

/** rc < 0 → -errno, else rc. */
function ret(rc: number): number {
  return rc < 0 ? -koffi.errno() : rc;
}

function check(syscall: string, rc: number, detail?: string): number {
  if (rc < 0) throw new SysError(syscall, koffi.errno(), detail);
  return rc;
}

// Scratch buffers for setup calls; module-level is per thread (see top).
const intBuf = allocBuffer(4);
const lenBuf = allocBuffer(4);
const addrBuf = allocBuffer(128);
const timevalBuf = allocBuffer(16);
/** struct linger { int l_onoff; int l_linger; }: on, 0 s. */
const lingerZero = allocBuffer(8);
lingerZero.writeInt32LE(1, 0);
lingerZero.writeInt32LE(0, 4);
const timespecBuf = allocBuffer(16);
const fdsBuf = allocBuffer(8);
const epollEvBuf = allocBuffer(EPOLL_EVENT_SIZE);

// ---------------------------------------------------------------------------
// Sockets

export function getpid(): number {
  return c_getpid() as number;
}

/** The calling thread's kernel id (Linux: /proc/self/task/<tid>), or -1 where libc has no gettid. */
export function gettid(): number {
  return c_gettid === undefined ? -1 : (c_gettid() as number);
}

// ---------------------------------------------------------------------------
// Signals (sigio)

/** glibc's sigset_t is 1024 bits; the kernel reads the first 64. */
const sigsetBuf = allocBuffer(128);
const ownerBuf = allocBuffer(8);

/**
 * Block (or unblock) one signal in the calling thread only: while blocked, it
 * stays pending on this thread (at most once) if it is directed at it.
 * 0 or -errno (pthread_sigmask returns the errno, not -1); -ENOSYS where
 * this libc has no pthread_sigmask.
 */
export function blockSignal(signo: number, block: boolean): number {
  if (c_pthread_sigmask === undefined) return -ENOSYS;
  sigsetBuf.fill(0);
  sigsetBuf[(signo - 1) >> 3] = 1 << ((signo - 1) & 7);
  const rc = c_pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, addressOf(sigsetBuf), 0) as number;
  return rc === 0 ? 0 : -rc;
}

/**
 * Linux: make thread `tid` (the main thread's tid is the pid) the owner of
 * fd's SIGIO, so the signal is directed at that thread and not at whichever
 * thread of the process the kernel picks. 0 or -errno.
 */
export function setOwnerThread(fd: number, tid: number): number {
  ownerBuf.writeInt32LE(F_OWNER_TID, 0);
  ownerBuf.writeInt32LE(tid, 4);
  return ret(c_fcntl(fd, F_SETOWN_EX, 'intptr_t', addressOf(ownerBuf)) as number);
}

/** Linux: fd's SIGIO owner as F_GETOWN_EX gives it (type F_OWNER_TID/PID/PGRP), or -errno. */
export function getOwner(fd: number): { type: number; id: number } | number {
  ownerBuf.fill(0);
  const rc = ret(c_fcntl(fd, F_GETOWN_EX, 'intptr_t', addressOf(ownerBuf)) as number);
  return rc < 0 ? rc : { type: ownerBuf.readInt32LE(0), id: ownerBuf.readInt32LE(4) };
}

/** socket(2); throws SysError. On macOS also sets SO_NOSIGPIPE. */
export function socket(domain: number, type: number, protocol = 0): number {
  const fd = check('socket', c_socket(domain, type, protocol) as number);
  if (SO_NOSIGPIPE !== 0) setsockoptInt(fd, SOL_SOCKET, SO_NOSIGPIPE, 1);
  return fd;
}

export function setsockoptInt(fd: number, level: number, name: number, value: number): void {
  intBuf.writeInt32LE(value, 0);
  check('setsockopt', c_setsockopt(fd, level, name, addressOf(intBuf), 4) as number);
}

export function getsockoptInt(fd: number, level: number, name: number): number {
  intBuf.writeInt32LE(0, 0);
  lenBuf.writeUInt32LE(4, 0);
  check('getsockopt', c_getsockopt(fd, level, name, addressOf(intBuf), addressOf(lenBuf)) as number);
  return intBuf.readInt32LE(0);
}

/** SO_SNDTIMEO / SO_RCVTIMEO (struct timeval); 0 = block forever. */
export function setsockoptTimeout(fd: number, name: number, ms: number): void {
  timevalBuf.fill(0);
  timevalBuf.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  // tv_usec is a long on Linux and an int (then padding) on macOS: LE either way.
  timevalBuf.writeInt32LE((ms % 1000) * 1000, 8);
  check('setsockopt', c_setsockopt(fd, SOL_SOCKET, name, addressOf(timevalBuf), 16) as number);
}

/**
 * SO_LINGER {on, 0}: the socket's last close() resets the connection (RST)
 * and drops whatever the kernel still holds to send. For a close that drops
 * queued bytes anyway (a slow consumer cut off, a failed socket): a
 * graceful FIN would sit behind those bytes, and with a peer that never
 * reads, the orphaned socket keeps them in kernel memory for minutes while
 * the peer is never told.
 */
export function resetOnClose(fd: number): boolean {
  // Best effort, never a throw: the caller is closing the socket either way.
  return (c_setsockopt(fd, SOL_SOCKET, SO_LINGER, addressOf(lingerZero), 8) as number) === 0;
}

export function setNoDelay(fd: number): void {
  setsockoptInt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
}

/** Pending error of a socket (after a non-blocking connect): 0 or positive errno. */
export function socketError(fd: number): number {
  return getsockoptInt(fd, SOL_SOCKET, SO_ERROR);
}

export function bind(fd: number, host: string, port: number): void {
  const sa = encodeSockAddr(host, port);
  check('bind', c_bind(fd, addressOf(sa), sa.length) as number, `${host}:${port}`);
}

export function listen(fd: number, backlog: number): void {
  check('listen', c_listen(fd, backlog) as number);
}

const ACCEPT4_FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC;

/**
 * Accept one connection. Returns the new fd (non-blocking and close-on-exec
 * unless `blocking`), or -errno (-EAGAIN when none is pending).
 */
export function accept(fd: number, blocking = false): number {
  if (c_accept4 !== undefined) {
    return ret(c_accept4(fd, 0, 0, blocking ? SOCK_CLOEXEC : ACCEPT4_FLAGS) as number);
  }
  const nfd = c_accept(fd, 0, 0) as number;
  if (nfd < 0) return -koffi.errno();
  // BSD: accepted sockets inherit O_NONBLOCK from the listener; set both ways.
  c_fcntl(nfd, F_SETFD, 'int', FD_CLOEXEC);
  const fl = c_fcntl(nfd, F_GETFL) as number;
  c_fcntl(nfd, F_SETFL, 'int', blocking ? fl & ~O_NONBLOCK : fl | O_NONBLOCK);
  if (SO_NOSIGPIPE !== 0) {
    intBuf.writeInt32LE(1, 0);
    c_setsockopt(nfd, SOL_SOCKET, SO_NOSIGPIPE, addressOf(intBuf), 4);
  }
  return nfd;
}

/** connect(2) to an IP literal: 0, or -errno (-EINPROGRESS on a non-blocking socket). */
export function connect(fd: number, host: string, port: number): number {
  const sa = encodeSockAddr(host, port);
  return ret(c_connect(fd, addressOf(sa), sa.length) as number);
}

export function getsockname(fd: number): SockAddr {
  lenBuf.writeUInt32LE(addrBuf.length, 0);
  check('getsockname', c_getsockname(fd, addressOf(addrBuf), addressOf(lenBuf)) as number);
  return decodeSockAddr(addrBuf);
}

export function getpeername(fd: number): SockAddr {
  lenBuf.writeUInt32LE(addrBuf.length, 0);
  check('getpeername', c_getpeername(fd, addressOf(addrBuf), addressOf(lenBuf)) as number);
  return decodeSockAddr(addrBuf);
}

/** recv into buf[off, off+len): bytes read (0 = EOF) or -errno. */
export function recv(fd: number, buf: Uint8Array, off: number, len: number): number {
  checkRange(buf, off, len);
  const n = c_recv(fd, addressOf(buf) + off, len, 0) as number;
  return n < 0 ? -koffi.errno() : n;
}

/** send buf[off, off+len) with MSG_NOSIGNAL: bytes sent or -errno. */
export function send(fd: number, buf: Uint8Array, off: number, len: number): number {
  checkRange(buf, off, len);
  const n = c_send(fd, addressOf(buf) + off, len, MSG_NOSIGNAL) as number;
  return n < 0 ? -koffi.errno() : n;
}

/** read(2) into buf[off, off+len): bytes or -errno (pipes, eventfd). */
export function read(fd: number, buf: Uint8Array, off: number, len: number): number {
  checkRange(buf, off, len);
  return ret(c_read(fd, addressOf(buf) + off, len) as number);
}

/** write(2) from buf[off, off+len): bytes or -errno. */
export function write(fd: number, buf: Uint8Array, off: number, len: number): number {
  checkRange(buf, off, len);
  return ret(c_write(fd, addressOf(buf) + off, len) as number);
}

export function shutdown(fd: number, how: number): number {
  return ret(c_shutdown(fd, how) as number);
}

export function close(fd: number): number {
  return ret(c_close(fd) as number);
}

/** fcntl(fd, cmd) or fcntl(fd, cmd, intArg): result or -errno. */
export function fcntl(fd: number, cmd: number, arg?: number): number {
  return ret((arg === undefined ? c_fcntl(fd, cmd) : c_fcntl(fd, cmd, 'int', arg)) as number);
}

export function setNonBlocking(fd: number, on: boolean): void {
  const fl = check('fcntl', c_fcntl(fd, F_GETFL) as number);
  check('fcntl', c_fcntl(fd, F_SETFL, 'int', on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) as number);
}

export function setCloseOnExec(fd: number): void {
  check('fcntl', c_fcntl(fd, F_SETFD, 'int', FD_CLOEXEC) as number);
}

/**
 * SO_SNDBUF: the kernel's send buffer for fd (on a listener: for every socket
 * it accepts from now on). Throws SysError.
 */
export function setSendBuffer(fd: number, bytes: number): void {
  setsockoptInt(fd, SOL_SOCKET, SO_SNDBUF, bytes);
}

export interface ListenOptions {
  /** Default true: the listener is O_NONBLOCK (accept returns -EAGAIN). */
  readonly nonBlocking?: boolean;
  readonly reuseAddr?: boolean;
  /**
   * SO_SNDBUF for the listener, set before listen(2); 0 or absent: the
   * system default. Linux and the BSDs copy it (and its "user-locked" flag,
   * which stops autotuning) into every accepted socket, so this is how a
   * server asks for small per-connection send buffers. Linux doubles it and
   * clamps it to [SOCK_MIN_SNDBUF, net.core.wmem_max].
   */
  readonly sndbuf?: number;
}

export interface Listener {
  readonly fd: number;
  readonly host: string;
  readonly port: number;
}

/**
 * socket + SO_REUSEADDR + bind + listen on an IP literal ("127.0.0.1",
 * "::1", "0.0.0.0"); port 0 picks one. Returns the fd and the bound address.
 * Throws SysError (code "EADDRINUSE" …) and closes the socket on failure.
 */
export function listenTcp(host: string, port: number, backlog: number, o: ListenOptions = {}): Listener {
  const nonBlocking = o.nonBlocking ?? true;
  const fd = socket(familyOf(host), SOCK_STREAM | SOCK_CLOEXEC | (nonBlocking ? SOCK_NONBLOCK : 0));
  try {
    if (SOCK_NONBLOCK === 0) {
      setCloseOnExec(fd);
      if (nonBlocking) setNonBlocking(fd, true);
    }
    if (o.reuseAddr ?? true) setsockoptInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (o.sndbuf !== undefined && o.sndbuf > 0) setSendBuffer(fd, o.sndbuf);
    bind(fd, host, port);
    listen(fd, backlog);
    const a = getsockname(fd);
    return { fd, host: a.host, port: a.port };
  } catch (err) {
    c_close(fd);
    throw err;
  }
}

/**
 * A non-blocking TCP socket connecting to host:port (an IP literal).
 * `pending` is true while the connect is in progress (wait for writability,
 * then read socketError). Throws SysError for an immediate failure.
 */
export function connectTcp(host: string, port: number): { fd: number; pending: boolean } {
  const fd = socket(familyOf(host), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
  try {
    if (SOCK_NONBLOCK === 0) {
      setCloseOnExec(fd);
      setNonBlocking(fd, true);
    }
    setNoDelay(fd);
    const rc = connect(fd, host, port);
    if (rc === 0) return { fd, pending: false };
    if (rc === -EINPROGRESS) return { fd, pending: true };
    throw new SysError('connect', -rc, `${host}:${port}`);
  } catch (err) {
    c_close(fd);
    throw err;
  }
}

// ---------------------------------------------------------------------------
// Wake-ups (the self-pipe trick)

/** A non-blocking, close-on-exec pipe: [readFd, writeFd]. Throws SysError. */
export function pipe(): [number, number] {
  if (c_pipe2 !== undefined) {
    check('pipe2', c_pipe2(addressOf(fdsBuf), O_NONBLOCK | O_CLOEXEC) as number);
  } else {
    check('pipe', c_pipe(addressOf(fdsBuf)) as number);
  }
  const r = fdsBuf.readInt32LE(0);
  const w = fdsBuf.readInt32LE(4);
  if (c_pipe2 === undefined) {
    for (const fd of [r, w]) {
      setNonBlocking(fd, true);
      setCloseOnExec(fd);
    }
  }
  return [r, w];
}

/** Linux eventfd (non-blocking, close-on-exec); undefined where missing. */
export function eventfd(): number | undefined {
  if (c_eventfd === undefined) return undefined;
  return check('eventfd', c_eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) as number);
}

const wakeByte = allocBuffer(8);
const drainBuf = allocBuffer(256);

/**
 * A pipe that wakes a thread blocked in select/poll/epoll_wait/kevent: the
 * waiting thread watches `readFd`; any thread calls `wake()`. The fds are
 * process-wide numbers, so they can be passed to a worker_thread as-is.
 */
export class Waker {
  readonly readFd: number;
  readonly writeFd: number;
  #closed = false;

  constructor(fds?: { readFd: number; writeFd: number }) {
    if (fds !== undefined) {
      this.readFd = fds.readFd;
      this.writeFd = fds.writeFd;
    } else {
      [this.readFd, this.writeFd] = pipe();
    }
  }

  /** Make readFd readable. A full pipe (EAGAIN) is already awake: fine. */
  wake(): void {
    if (!this.#closed) c_write(this.writeFd, addressOf(wakeByte), 1);
  }

  /** Empty the pipe (called by the waiting thread after it woke). */
  drain(): void {
    while ((c_read(this.readFd, addressOf(drainBuf), drainBuf.length) as number) === drainBuf.length);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    c_close(this.readFd);
    c_close(this.writeFd);
  }
}

// ---------------------------------------------------------------------------
// Readiness: select, poll, epoll, kqueue

/**
 * A struct timeval or timespec for `timeoutMs` in `buf`, and its address:
 * two 64-bit little-endian fields, seconds then the rest in the struct's
 * sub-unit (`perMs` of them per ms: 1000 for µs, 1e6 for ns).
 */
function timeStruct(buf: Buffer, timeoutMs: number, perMs: number): number {
  const sec = Math.floor(timeoutMs / 1000);
  buf.writeUInt32LE(sec, 0);
  buf.writeUInt32LE(0, 4);
  buf.writeUInt32LE(Math.floor((timeoutMs - sec * 1000) * perMs), 8);
  buf.writeUInt32LE(0, 12);
  return addressOf(buf);
}

/**
 * select(2) with fd_set bitmaps of FD_SET_BYTES bytes (null = not watched)
 * and a timeout in ms (< 0 = wait forever). Returns the ready count or
 * -errno (-EINTR when a signal arrived). The sets are modified in place.
 */
export function select(nfds: number, readSet: Uint8Array | null, writeSet: Uint8Array | null, timeoutMs: number): number {
  // struct timeval: tv_usec (long on Linux; int + padding on macOS).
  const tv = timeoutMs >= 0 ? timeStruct(timevalBuf, timeoutMs, 1000) : 0;
  return ret(
    c_select(nfds, readSet === null ? 0 : addressOf(readSet), writeSet === null ? 0 : addressOf(writeSet), 0, tv) as number,
  );
}

/** poll(2) over `nfds` struct pollfd (POLLFD_SIZE bytes each) in `fds`. */
export function poll(fds: Uint8Array, nfds: number, timeoutMs: number): number {
  checkRange(fds, 0, nfds * 8);
  return ret(c_poll(addressOf(fds), nfds, timeoutMs < 0 ? -1 : Math.ceil(timeoutMs)) as number);
}

export const HAVE_EPOLL = c_epoll_create1 !== undefined && c_epoll_ctl !== undefined && c_epoll_wait !== undefined;
export const HAVE_KQUEUE = c_kqueue !== undefined && c_kevent !== undefined;

/** The function, or one that throws ENOSYS when called (epoll on macOS …). */
function need(f: Fn | undefined, name: string): Fn {
  return (
    f ??
    (() => {
      throw new SysError(name, ENOSYS, '(not available on this platform)');
    })
  );
}
const epoll_create1 = need(c_epoll_create1, 'epoll_create1');
const epoll_ctl = need(c_epoll_ctl, 'epoll_ctl');
const epoll_wait = need(c_epoll_wait, 'epoll_wait');
const kqueue_ = need(c_kqueue, 'kqueue');
const kevent_ = need(c_kevent, 'kevent');

/** epoll_create1(EPOLL_CLOEXEC); throws SysError. */
export function epollCreate(): number {
  return check('epoll_create1', epoll_create1(EPOLL_CLOEXEC) as number);
}

/** epoll_ctl with data = `data` (a 32-bit number, usually the fd): 0 or -errno. */
export function epollCtl(epfd: number, op: number, fd: number, events: number, data: number): number {
  epollEvBuf.writeUInt32LE(events >>> 0, 0);
  epollEvBuf.writeUInt32LE(data >>> 0, EPOLL_DATA_OFFSET);
  epollEvBuf.writeUInt32LE(0, EPOLL_DATA_OFFSET + 4);
  return ret(epoll_ctl(epfd, op, fd, addressOf(epollEvBuf)) as number);
}

/**
 * epoll_wait into `events` (maxEvents × EPOLL_EVENT_SIZE bytes): the ready
 * count or -errno. Read entry i with epollEventAt/epollDataAt.
 */
export function epollWait(epfd: number, events: Uint8Array, maxEvents: number, timeoutMs: number): number {
  checkRange(events, 0, maxEvents * EPOLL_EVENT_SIZE);
  return ret(
    epoll_wait(epfd, addressOf(events), maxEvents, timeoutMs < 0 ? -1 : Math.ceil(timeoutMs)) as number,
  );
}

/** kqueue(); throws SysError. */
export function kqueue(): number {
  const fd = check('kqueue', kqueue_() as number);
  setCloseOnExec(fd);
  return fd;
}

/**
 * kevent(2): apply `nchanges` struct kevent from `changes`, then collect up
 * to `nevents` into `events`. Timeout in ms (< 0 = forever). Count or -errno.
 */
export function kevent(
  kq: number,
  changes: Uint8Array | null,
  nchanges: number,
  events: Uint8Array | null,
  nevents: number,
  timeoutMs: number,
): number {
  // struct timespec: tv_nsec.
  const ts = timeoutMs >= 0 ? timeStruct(timespecBuf, timeoutMs, 1e6) : 0;
  return ret(
    kevent_(
      kq,
      changes === null ? 0 : addressOf(changes),
      nchanges,
      events === null ? 0 : addressOf(events),
      nevents,
      ts,
    ) as number,
  );
}

/** Negative-errno constants for comparing hot-path results. */
export const NEG_EAGAIN = -EAGAIN;
export const NEG_EINTR = -EINTR;
