/**
 * errno as a typed error. `code` is the symbolic name ("EADDRINUSE"), the
 * same field Node's own errors use, so code that checks `err.code` (e.g.
 * harness/errors.ts isErrno) works for both.
 */
import * as os from 'node:os';
import * as util from 'node:util';

const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(os.constants.errno)) {
  // EAGAIN and EWOULDBLOCK share a value; keep the first (EAGAIN) listed.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** Symbolic name of a positive errno value, e.g. 98 → "EADDRINUSE" on Linux. */
export function errnoName(errno: number): string {
  const known = errnoNames.get(errno);
  if (known !== undefined) return known;
  try {
    return util.getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}

/** A failed system call. */
export class SysError extends Error {
  override readonly name = 'SysError';
  /** Symbolic errno name, e.g. "EADDRINUSE". */
  readonly code: string;
  /** Positive errno value. */
  readonly errno: number;
  readonly syscall: string;

  constructor(syscall: string, errno: number, detail?: string) {
    const code = errnoName(errno);
    super(`${syscall}${detail === undefined ? '' : ` ${detail}`}: ${code}`);
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** Thrown by SelectSelector.register for fd >= FD_SETSIZE. */
export class FdSetSizeError extends RangeError {
  override readonly name = 'FdSetSizeError';
  readonly code = 'FD_SETSIZE';
  constructor(readonly fd: number, limit: number) {
    super(`fd ${fd} does not fit in an fd_set (FD_SETSIZE = ${limit})`);
  }
}

// Positive errno values of this platform that callers test on hot paths.
const e = os.constants.errno;
export const EAGAIN = e.EAGAIN;
export const EWOULDBLOCK = e.EWOULDBLOCK;
export const EINTR = e.EINTR;
export const EINPROGRESS = e.EINPROGRESS;
export const ECONNRESET = e.ECONNRESET;
export const ECONNABORTED = e.ECONNABORTED;
export const EPIPE = e.EPIPE;
export const EBADF = e.EBADF;
export const EMFILE = e.EMFILE;
export const ENFILE = e.ENFILE;
export const ENOBUFS = e.ENOBUFS;
export const ENOMEM = e.ENOMEM;
export const ENOTCONN = e.ENOTCONN;
export const EINVAL = e.EINVAL;
export const EADDRINUSE = e.EADDRINUSE;
export const EADDRNOTAVAIL = e.EADDRNOTAVAIL;
export const ETIMEDOUT = e.ETIMEDOUT;
export const ECONNREFUSED = e.ECONNREFUSED;
export const ENOENT = e.ENOENT;
export const ENOSYS = e.ENOSYS;
