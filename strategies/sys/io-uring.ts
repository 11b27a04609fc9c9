/**
 * io_uring through raw syscalls (no liburing): io_uring_setup,
 * io_uring_enter and io_uring_register via libc's variadic `syscall()`, the
 * SQ ring, CQ ring and SQE array mmapped from the ring fd, and a provided
 * buffer ring mmapped anonymously and registered with the kernel.
 *
 * The rings are shared memory with the kernel. We read and write them
 * through ArrayBuffers that koffi.view() lays over the mappings. Ordering:
 * the kernel publishes a CQE and then stores the CQ tail with release
 * semantics; we load that tail with Atomics.load (sequentially consistent,
 * so at least acquire) before reading the CQEs it covers, and give entries
 * back with Atomics.store on the CQ head. For submissions we fill the SQEs
 * with plain stores and only then Atomics.store the SQ tail (at least
 * release), so the kernel never sees a tail that covers a half-written SQE.
 * The provided-buffer ring's tail is published the same way.
 *
 * Linux only; every entry point throws SysError (ENOSYS elsewhere, EPERM
 * under seccomp or kernel.io_uring_disabled) so `probeIoUring` can turn the
 * failure into a reason.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as koffi from 'koffi';
import { PLATFORM } from './constants.js';
import { ENOSYS, SysError, errnoName } from './errors.js';
import { addressOf, allocBuffer } from './libc.js';

type Fn = (...args: any[]) => any;

const EPERM = os.constants.errno.EPERM;

// ---------------------------------------------------------------------------
// ABI (include/uapi/linux/io_uring.h)

/** Syscall numbers; the same on x86-64 and arm64 (new syscalls are unified). */
export const NR_IO_URING_SETUP = 425;
export const NR_IO_URING_ENTER = 426;
export const NR_IO_URING_REGISTER = 427;

export const IORING_OFF_SQ_RING = 0;
export const IORING_OFF_CQ_RING = 0x8000000;
export const IORING_OFF_SQES = 0x10000000;

export const IORING_SETUP_CQSIZE = 1 << 3;
export const IORING_SETUP_SUBMIT_ALL = 1 << 7;
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
export const IORING_SETUP_DEFER_TASKRUN = 1 << 13;

export const IORING_FEAT_SINGLE_MMAP = 1 << 0;
export const IORING_FEAT_NODROP = 1 << 1;
export const IORING_FEAT_FAST_POLL = 1 << 5;

export const IORING_ENTER_GETEVENTS = 1 << 0;
export const IORING_ENTER_EXT_ARG = 1 << 3;

export const IORING_OP_NOP = 0;
export const IORING_OP_POLL_ADD = 6;
export const IORING_OP_TIMEOUT = 11;
export const IORING_OP_ACCEPT = 13;
export const IORING_OP_ASYNC_CANCEL = 14;
export const IORING_OP_READ = 22;
export const IORING_OP_SEND = 26;
export const IORING_OP_RECV = 27;

export const IOSQE_BUFFER_SELECT = 1 << 5;
export const IOSQE_CQE_SKIP_SUCCESS = 1 << 6;

/** sqe->ioprio bits for ACCEPT and RECV. */
export const IORING_ACCEPT_MULTISHOT = 1 << 0;
export const IORING_RECV_MULTISHOT = 1 << 1;

export const IORING_CQE_F_BUFFER = 1 << 0;
export const IORING_CQE_F_MORE = 1 << 1;
export const IORING_CQE_BUFFER_SHIFT = 16;

export const IORING_REGISTER_PBUF_RING = 22;
export const IORING_UNREGISTER_PBUF_RING = 23;

const SQE_SIZE = 64;
const CQE_SIZE = 16;
const PARAMS_SIZE = 120;
const BUF_RING_ENTRY = 16;

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
const MAP_PRIVATE = 2;
const MAP_ANONYMOUS = 0x20;
const MAP_POPULATE = 0x8000;

// ---------------------------------------------------------------------------
// libc bindings (bound lazily: the module must load on macOS too)

interface Calls {
  syscall: Fn;
  mmap: Fn;
  munmap: Fn;
  close: Fn;
  eventfd: Fn;
  /** syscall() bound without varargs for io_uring_enter: a variadic koffi call parses type strings on every call. */
  enter: Fn;
}
let calls: Calls | undefined;

function libc(): Calls {
  if (calls !== undefined) return calls;
  if (PLATFORM !== 'linux') throw new SysError('io_uring_setup', ENOSYS, `(io_uring is Linux-only; this is ${process.platform})`);
  const lib = koffi.load('libc.so.6');
  calls = {
    syscall: lib.func('long syscall(long number, ...)') as Fn,
    mmap: lib.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, intptr_t off)') as Fn,
    munmap: lib.func('int munmap(void *addr, size_t len)') as Fn,
    close: lib.func('int close(int fd)') as Fn,
    eventfd: lib.func('int eventfd(unsigned int initval, int flags)') as Fn,
    enter: lib.func('long syscall(long nr, int fd, uint32_t toSubmit, uint32_t minComplete, uint32_t flags, intptr_t arg, size_t argsz)') as Fn,
  };
  return calls;
}

interface Mapping {
  readonly ptr: unknown;
  readonly len: number;
  readonly buf: ArrayBuffer;
}

const MAP_FAILED = (1n << 64n) - 1n;

function mmap(len: number, prot: number, flags: number, fd: number, off: number, what: string): Mapping {
  const c = libc();
  const ptr = c.mmap(null, len, prot, flags, fd, off);
  if (ptr === null || koffi.address(ptr) === MAP_FAILED) throw new SysError('mmap', koffi.errno(), what);
  return { ptr, len, buf: koffi.view(ptr, len) };
}

function munmap(m: Mapping): void {
  libc().munmap(m.ptr, m.len);
}

/** io_uring_setup(2): the ring fd; throws SysError (ENOSYS, EPERM, EINVAL …). */
export function ioUringSetup(entries: number, params: Buffer): number {
  const c = libc();
  const fd = Number(c.syscall(NR_IO_URING_SETUP, 'uint32_t', entries, 'intptr_t', addressOf(params)));
  if (fd < 0) throw new SysError('io_uring_setup', koffi.errno());
  return fd;
}

/** io_uring_register(2): >= 0 or -errno. */
export function ioUringRegister(fd: number, opcode: number, arg: number, nrArgs: number): number {
  const rc = Number(libc().syscall(NR_IO_URING_REGISTER, 'int', fd, 'uint32_t', opcode, 'intptr_t', arg, 'uint32_t', nrArgs));
  return rc < 0 ? -koffi.errno() : rc;
}

/** A blocking (no EFD_NONBLOCK) close-on-exec eventfd: io_uring reads it asynchronously. */
export function blockingEventfd(): number {
  const fd = Number(libc().eventfd(0, 0o2000000));
  if (fd < 0) throw new SysError('eventfd', koffi.errno());
  return fd;
}

export function closeFd(fd: number): void {
  libc().close(fd);
}

// ---------------------------------------------------------------------------
// The ring

export interface RingOptions {
  /** SQ entries (power of two). */
  readonly sqEntries: number;
  /** CQ entries (power of two, >= sqEntries). */
  readonly cqEntries: number;
  /** Provided buffers in group 0 (power of two), and their size. */
  readonly bufCount: number;
  readonly bufSize: number;
}

/**
 * The geometry our io_uring server loop and io_uring load transport both
 * run with: an SQ deep enough to arm a RECV on thousands of connections in
 * one turn, a CQ four times deeper so multishot completions never overflow
 * it, and 4096 provided receive buffers of 16 KiB shared by every connection.
 */
export const RING_GEOMETRY: RingOptions = { sqEntries: 4096, cqEntries: 16384, bufCount: 4096, bufSize: 16 * 1024 };

/**
 * One io_uring instance for one thread (SINGLE_ISSUER): an SQE producer,
 * a CQE consumer and a provided-buffer ring for multishot RECV.
 */
export class IoUring {
  readonly fd: number;
  readonly features: number;
  readonly setupFlags: number;
  readonly sqEntries: number;
  readonly cqEntries: number;
  /** Provided buffers: bufCount × bufSize bytes, buffer id i at i × bufSize. */
  readonly bufs: Buffer;
  readonly bufSize: number;
  readonly bufCount: number;

  readonly #maps: Mapping[] = [];
  readonly #enter: Fn;
  // SQ ring
  readonly #sqHead: Uint32Array; // [0] = head, read with Atomics (kernel writes)
  readonly #sqTail: Uint32Array;
  readonly #sqMask: number;
  readonly #sqes: DataView;
  readonly #sqes32: Uint32Array;
  /** Our private tail: SQEs [published, #tail) are filled but unpublished. */
  #tail = 0;
  #published = 0;
  // CQ ring
  readonly #cqHead: Uint32Array;
  readonly #cqTail: Uint32Array;
  readonly #cqMask: number;
  readonly #cqes32: Int32Array;
  readonly #cqesU32: Uint32Array;
  #cqHeadLocal = 0;
  // Provided buffer ring
  readonly #br: Mapping;
  readonly #brView: DataView;
  readonly #brTail: Uint16Array;
  #brTailLocal = 0;
  #closed = false;

  constructor(o: RingOptions) {
    const params = allocBuffer(PARAMS_SIZE);
    params.writeUInt32LE(o.cqEntries, 4);
    const base = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    // Newest first: DEFER_TASKRUN (6.1) runs completions only when we enter
    // the kernel, which suits a single loop thread; fall back for older kernels.
    const tries = [base | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, base | IORING_SETUP_COOP_TASKRUN, base];
    let fd = -1;
    let flags = 0;
    let last: unknown;
    for (const f of tries) {
      params.fill(0);
      params.writeUInt32LE(o.cqEntries, 4);
      params.writeUInt32LE(f, 8);
      try {
        fd = ioUringSetup(o.sqEntries, params);
        flags = f;
        break;
      } catch (err) {
        last = err;
        if (!(err instanceof SysError) || err.code !== 'EINVAL') throw err;
      }
    }
    if (fd < 0) throw last;
    this.fd = fd;
    this.setupFlags = flags;
    try {
      this.sqEntries = params.readUInt32LE(0);
      this.cqEntries = params.readUInt32LE(4);
      this.features = params.readUInt32LE(20);
      const sq = (i: number): number => params.readUInt32LE(40 + i * 4);
      const cq = (i: number): number => params.readUInt32LE(80 + i * 4);
      // sq_off: head, tail, ring_mask, ring_entries, flags, dropped, array
      // cq_off: head, tail, ring_mask, ring_entries, overflow, cqes, flags
      const sqRingLen = sq(6) + this.sqEntries * 4;
      const cqRingLen = cq(5) + this.cqEntries * CQE_SIZE;
      const rw = PROT_READ | PROT_WRITE;
      const shared = MAP_SHARED | MAP_POPULATE;
      let sqMap: Mapping;
      let cqMap: Mapping;
      if ((this.features & IORING_FEAT_SINGLE_MMAP) !== 0) {
        sqMap = mmap(Math.max(sqRingLen, cqRingLen), rw, shared, fd, IORING_OFF_SQ_RING, 'SQ/CQ ring');
        cqMap = sqMap;
        this.#maps.push(sqMap);
      } else {
        sqMap = mmap(sqRingLen, rw, shared, fd, IORING_OFF_SQ_RING, 'SQ ring');
        this.#maps.push(sqMap);
        cqMap = mmap(cqRingLen, rw, shared, fd, IORING_OFF_CQ_RING, 'CQ ring');
        this.#maps.push(cqMap);
      }
      const sqesMap = mmap(this.sqEntries * SQE_SIZE, rw, shared, fd, IORING_OFF_SQES, 'SQE array');
      this.#maps.push(sqesMap);

      this.#sqHead = new Uint32Array(sqMap.buf, sq(0), 1);
      this.#sqTail = new Uint32Array(sqMap.buf, sq(1), 1);
      this.#sqMask = new Uint32Array(sqMap.buf, sq(2), 1)[0] ?? 0;
      // The indirection array: slot i always holds SQE i, as liburing does,
      // so submitting is just advancing the tail.
      const array = new Uint32Array(sqMap.buf, sq(6), this.sqEntries);
      for (let i = 0; i < this.sqEntries; i++) array[i] = i;
      this.#tail = this.#published = Atomics.load(this.#sqTail, 0);
      this.#sqes = new DataView(sqesMap.buf);
      this.#sqes32 = new Uint32Array(sqesMap.buf);

      this.#cqHead = new Uint32Array(cqMap.buf, cq(0), 1);
      this.#cqTail = new Uint32Array(cqMap.buf, cq(1), 1);
      this.#cqMask = new Uint32Array(cqMap.buf, cq(2), 1)[0] ?? 0;
      this.#cqes32 = new Int32Array(cqMap.buf, cq(5), this.cqEntries * 4);
      this.#cqesU32 = new Uint32Array(cqMap.buf, cq(5), this.cqEntries * 4);
      this.#cqHeadLocal = Atomics.load(this.#cqHead, 0);

      // Provided buffer ring (5.19+): the ring must be page-aligned memory we
      // own; anonymous mmap gives that. The kernel picks a buffer per RECV.
      this.bufCount = o.bufCount;
      this.bufSize = o.bufSize;
      this.#br = mmap(o.bufCount * BUF_RING_ENTRY, rw, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0, 'buffer ring');
      this.#maps.push(this.#br);
      this.#brView = new DataView(this.#br.buf);
      this.#brTail = new Uint16Array(this.#br.buf, 14, 1);
      const reg = allocBuffer(40);
      reg.writeBigUInt64LE(koffi.address(this.#br.ptr), 0);
      reg.writeUInt32LE(o.bufCount, 8);
      reg.writeUInt16LE(0, 12); // bgid 0
      const rc = ioUringRegister(fd, IORING_REGISTER_PBUF_RING, addressOf(reg), 1);
      if (rc < 0) throw new SysError('io_uring_register', -rc, '(IORING_REGISTER_PBUF_RING: needs Linux >= 5.19)');
      this.bufs = allocBuffer(o.bufCount * o.bufSize);
      const bufsAddr = addressOf(this.bufs);
      for (let i = 0; i < o.bufCount; i++) this.#putBuf(i, bufsAddr);
      this.publishBuffers();
      this.#enter = libc().enter;
    } catch (err) {
      this.#release();
      throw err;
    }
  }

  #bufsAddr = 0;

  #putBuf(bid: number, bufsAddr: number): void {
    this.#bufsAddr = bufsAddr;
    const off = (this.#brTailLocal & (this.bufCount - 1)) * BUF_RING_ENTRY;
    const v = this.#brView;
    // addr (u64), len (u32), bid (u16); resv (u16) of entry 0 is the ring tail: leave it.
    const addr = bufsAddr + bid * this.bufSize;
    v.setUint32(off, addr % 0x100000000, true);
    v.setUint32(off + 4, Math.floor(addr / 0x100000000), true);
    v.setUint32(off + 8, this.bufSize, true);
    v.setUint16(off + 12, bid, true);
    this.#brTailLocal = (this.#brTailLocal + 1) & 0xffff;
  }

  /** Give provided buffer `bid` back to the kernel (visible after publishBuffers). */
  recycleBuffer(bid: number): void {
    this.#putBuf(bid, this.#bufsAddr);
  }

  /** Publish recycled buffers: one release store of the buffer ring tail. */
  publishBuffers(): void {
    Atomics.store(this.#brTail, 0, this.#brTailLocal);
  }

  /** SQEs that can still be filled before the ring must be submitted. */
  get sqSpace(): number {
    return this.sqEntries - ((this.#tail - Atomics.load(this.#sqHead, 0)) >>> 0);
  }

  /** Filled but not yet submitted SQEs. */
  get pending(): number {
    return (this.#tail - this.#published) >>> 0;
  }

  /**
   * Fill the next SQE. The caller checked sqSpace (or calls submit() first).
   * `userData` is two u32 halves so no BigInt is made per request.
   */
  prep(op: number, fd: number, addr: number, len: number, off: number, opFlags: number, sqeFlags: number, ioprio: number, bufGroup: number, udLo: number, udHi: number): void {
    const i = this.#tail & this.#sqMask;
    this.#tail = (this.#tail + 1) >>> 0;
    const w = i * 16; // u32 words per SQE
    const s = this.#sqes32;
    const v = this.#sqes;
    const b = i * SQE_SIZE;
    v.setUint8(b, op);
    v.setUint8(b + 1, sqeFlags);
    v.setUint16(b + 2, ioprio, true);
    s[w + 1] = fd >>> 0;
    s[w + 2] = off >>> 0;
    s[w + 3] = 0;
    s[w + 4] = addr % 0x100000000;
    s[w + 5] = Math.floor(addr / 0x100000000);
    s[w + 6] = len >>> 0;
    s[w + 7] = opFlags >>> 0;
    s[w + 8] = udLo >>> 0;
    s[w + 9] = udHi >>> 0;
    s[w + 10] = bufGroup & 0xffff; // buf_group u16, personality u16 = 0
    s[w + 11] = 0;
    s[w + 12] = 0;
    s[w + 13] = 0;
    s[w + 14] = 0;
    s[w + 15] = 0;
  }

  /**
   * Publish every filled SQE (one release store of the SQ tail) and enter
   * the kernel once: submit them all and, if `wait`, block until at least
   * one CQE is ready. Returns the number submitted or -errno (-EINTR,
   * -EBUSY when the CQ overflowed: reap and retry).
   */
  submit(wait: boolean): number {
    Atomics.store(this.#sqTail, 0, this.#tail);
    const n = (this.#tail - this.#published) >>> 0;
    this.#published = this.#tail;
    const rc = Number(this.#enter(NR_IO_URING_ENTER, this.fd, n, wait ? 1 : 0, wait ? IORING_ENTER_GETEVENTS : 0, 0, 0));
    return rc < 0 ? -koffi.errno() : rc;
  }

  /** struct io_uring_getevents_arg { u64 sigmask; u32 sigmask_sz; u32 pad; u64 ts; } and the timespec it points at. */
  readonly #waitArg = allocBuffer(24);
  readonly #waitTs = allocBuffer(16);
  /** The arg's address; it points at #waitTs (sigmask 0), written once. */
  readonly #waitArgAddr = ((a: Buffer, ts: Buffer): number => {
    a.fill(0);
    a.writeBigUInt64LE(BigInt(addressOf(ts)), 16);
    return addressOf(a);
  })(this.#waitArg, this.#waitTs);

  /**
   * Like submit(true), but waiting at most `timeoutMs` for a completion
   * (IORING_ENTER_EXT_ARG, Linux >= 5.11): a loop with deadlines of its own
   * needs no TIMEOUT request in the ring. Returns the number submitted,
   * -ETIME when the time passed with nothing completed, or -errno.
   */
  submitAndWait(timeoutMs: number): number {
    Atomics.store(this.#sqTail, 0, this.#tail);
    const n = (this.#tail - this.#published) >>> 0;
    this.#published = this.#tail;
    // The timespec as two 64-bit halves written as u32 pairs (no BigInt per
    // wait): the seconds of any wait here fit in 32 bits, nanoseconds always do.
    const ms = Math.min(Math.max(0, timeoutMs), 3_600_000);
    const ts = this.#waitTs;
    ts.writeUInt32LE(Math.floor(ms / 1000) >>> 0, 0);
    ts.writeUInt32LE(0, 4);
    ts.writeUInt32LE(Math.min(999_999_999, Math.round((ms % 1000) * 1e6)), 8);
    ts.writeUInt32LE(0, 12);
    const rc = Number(this.#enter(NR_IO_URING_ENTER, this.fd, n, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, this.#waitArgAddr, 24));
    return rc < 0 ? -koffi.errno() : rc;
  }

  /**
   * Visit every ready CQE, then hand the entries back with one store of the
   * CQ head. `fn` must not submit-and-wait (it may prep SQEs).
   */
  reap(fn: (udLo: number, udHi: number, res: number, flags: number) => void): number {
    const tail = Atomics.load(this.#cqTail, 0);
    let n = 0;
    const c32 = this.#cqes32;
    const cu = this.#cqesU32;
    // The head is re-read from the field each time: `fn` may reap too (a
    // full SQ whose submit reports a busy CQ), and a nested reap may move
    // it past our `tail`; the signed distance stops us there.
    while (((tail - this.#cqHeadLocal) | 0) > 0) {
      const head = this.#cqHeadLocal;
      const w = (head & this.#cqMask) * 4;
      const lo = cu[w] ?? 0;
      const hi = cu[w + 1] ?? 0;
      const res = c32[w + 2] ?? 0;
      const flags = cu[w + 3] ?? 0;
      // Release the slot before the callback so a throw cannot replay it.
      this.#cqHeadLocal = (head + 1) >>> 0;
      Atomics.store(this.#cqHead, 0, this.#cqHeadLocal);
      n++;
      fn(lo, hi, res, flags);
    }
    return n;
  }

  #release(): void {
    for (const m of this.#maps.reverse()) munmap(m);
    this.#maps.length = 0;
    closeFd(this.fd);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Take the provided buffers away from the kernel first, so no RECV that
    // is still being cancelled can pick one after our memory goes away.
    const reg = allocBuffer(40);
    ioUringRegister(this.fd, IORING_UNREGISTER_PBUF_RING, addressOf(reg), 1);
    this.#release();
  }
}

// ---------------------------------------------------------------------------
// Availability

export type IoUringProbe = { ok: true; features: number } | { ok: false; reason: string };

/** What the probe needs from the system; injectable for tests. */
export interface ProbeEnv {
  platform: string;
  /** os.release(), e.g. "6.18.44". */
  kernelRelease: string;
  /** Contents of /proc/sys/kernel/io_uring_disabled, or undefined if absent. */
  disabledSysctl(): string | undefined;
  /** Try to set a small ring up (and register a buffer ring); throw on failure. */
  trySetup(): number;
}

export const realProbeEnv: ProbeEnv = {
  platform: process.platform,
  kernelRelease: os.release(),
  disabledSysctl() {
    try {
      return fs.readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8');
    } catch {
      return undefined;
    }
  },
  trySetup() {
    const ring = new IoUring({ sqEntries: 4, cqEntries: 8, bufCount: 4, bufSize: 64 });
    const f = ring.features;
    ring.close();
    return f;
  },
};

/** Turn a failed setup into a sentence a user can act on. */
export function explainSetupError(err: unknown): string {
  if (err instanceof SysError) {
    if (err.errno === ENOSYS) {
      return `io_uring syscalls are missing (${err.message}): kernel older than 5.1, built without CONFIG_IO_URING, or filtered by seccomp`;
    }
    if (err.errno === EPERM) {
      return `io_uring is not permitted here (${err.message}): blocked by seccomp (e.g. Docker's default profile) or kernel.io_uring_disabled`;
    }
    if (err.syscall === 'io_uring_register') return `io_uring is too old for this strategy: ${err.message}`;
    return `io_uring setup failed: ${err.message} (${errnoName(err.errno)})`;
  }
  return `io_uring setup failed: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Can this process use io_uring with what the strategy needs (multishot
 * accept and recv, provided buffer rings: Linux >= 6.0)? Never throws.
 */
export function probeIoUring(env: ProbeEnv = realProbeEnv): IoUringProbe {
  if (env.platform !== 'linux') return { ok: false, reason: `io_uring is Linux-only (this is ${env.platform})` };
  const d = env.disabledSysctl()?.trim();
  if (d === '2') return { ok: false, reason: 'io_uring is disabled by the administrator (kernel.io_uring_disabled = 2)' };
  const major = Number(/^(\d+)\./.exec(env.kernelRelease)?.[1] ?? 0);
  if (major < 6) {
    return { ok: false, reason: `this strategy needs Linux >= 6.0 (multishot RECV, provided buffer rings); this kernel is ${env.kernelRelease}` };
  }
  let features: number;
  try {
    features = env.trySetup();
  } catch (err) {
    const why = explainSetupError(err);
    return { ok: false, reason: d === '1' ? `${why}; kernel.io_uring_disabled = 1 allows only the io_uring_group` : why };
  }
  if ((features & IORING_FEAT_NODROP) === 0 || (features & IORING_FEAT_FAST_POLL) === 0) {
    return { ok: false, reason: 'io_uring is too old here (no IORING_FEAT_NODROP/FAST_POLL: needs Linux >= 5.7; this strategy wants >= 6.0)' };
  }
  return { ok: true, features };
}
