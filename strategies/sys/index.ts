/**
 * strategies/sys: typed libc over koffi, the only FFI in iomodels. A flat
 * list of named exports; see libc.ts for the calling conventions (setup
 * calls throw SysError, hot-path calls return -errno, buffers go by address).
 */
export * from './constants.js';
export * from './errors.js';
export * from './libc.js';
export { FdSet } from './fdset.js';
export { decodeSockAddr, encodeSockAddr, type SockAddr } from './sockaddr.js';
