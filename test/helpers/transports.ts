/**
 * The load transports every transport-generic test runs on, with the reason
 * one is skipped where it cannot run (io_uring off Linux, disabled, or
 * filtered by seccomp): skipped with that reason, never silently passed.
 */
import { probeIoUring } from '../../strategies/sys/io-uring.js';

export interface TransportCase {
  readonly name: 'selector' | 'uring' | 'net';
  /** false, or why this transport cannot run here. */
  readonly skip: string | false;
}

const uring = probeIoUring();

export const TRANSPORTS: readonly TransportCase[] = [
  { name: 'selector', skip: false },
  { name: 'uring', skip: uring.ok ? false : `io_uring unavailable here: ${uring.reason}` },
  { name: 'net', skip: false },
];

/** What `client.driver` says when no transport is asked for: io_uring where it runs, else the Selector layer. */
export const DEFAULT_TRANSPORT: RegExp = uring.ok ? /^uring$/ : /^selector:/;
