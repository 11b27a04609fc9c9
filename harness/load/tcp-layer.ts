/**
 * Which transport a load runs on (`bench --tcp-driver`): io_uring where it
 * runs (the fewest syscalls per op, so the load is the last thing to
 * saturate), else the FFI Selector layer, else node:net. Asking for one
 * where it cannot run is an error, never a silent substitute.
 */
import type { Transport } from './load-threads.js';

/** Values of DriverOptions.tcpDriver / `bench --tcp-driver`. */
export const TCP_DRIVERS = ['selector', 'uring', 'net'] as const;
export type TcpDriver = (typeof TCP_DRIVERS)[number];

/** Why the Selector transport cannot run here, or undefined when it can. */
export async function selectorUnavailable(): Promise<string | undefined> {
  try {
    // Loaded lazily: on a platform without libc/koffi the import itself throws.
    const sel = await import('../../strategies/selectors/index.js');
    const a = sel.selectorAvailable(sel.defaultSelectorKind());
    return a.ok ? undefined : a.reason;
  } catch (err) {
    return String(err);
  }
}

/** Why the io_uring transport cannot run here, or undefined when it can. */
export async function uringUnavailable(): Promise<string | undefined> {
  try {
    const u = await import('../../strategies/sys/io-uring.js');
    const p = u.probeIoUring();
    return p.ok ? undefined : p.reason;
  } catch (err) {
    return String(err);
  }
}

/** The transport `asked` (absent: the best that runs here). */
export async function chooseTransport(asked: string | undefined): Promise<Transport> {
  if (asked === undefined && (await uringUnavailable()) === undefined) return 'uring';
  if (asked === 'net') return 'net';
  if (asked === 'uring') {
    const why = await uringUnavailable();
    if (why !== undefined) throw new Error(`the uring driver cannot run here: ${why}`);
    return 'uring';
  }
  if (asked !== undefined && asked !== 'selector') throw new Error(`unknown tcp driver "${asked}" (valid: ${TCP_DRIVERS.join(', ')})`);
  const why = await selectorUnavailable();
  if (why === undefined) return 'selector';
  if (asked === 'selector') throw new Error(`the selector driver cannot run here: ${why}`);
  return 'net';
}
