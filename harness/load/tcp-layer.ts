/**
 * Which TCP layer a load driver runs on (`bench --tcp-driver`): the FFI
 * Selector layer wherever it loads (selector-driver.ts), else node:net.
 * Asking for `selector` where it cannot run is an error, never a silent
 * substitute.
 */
import type { DriverOptions, DriverResult } from './driver.js';
import type { SelectorWorkload } from './selector-runner.js';

/** Values of DriverOptions.tcpDriver / `bench --tcp-driver`. */
export const TCP_DRIVERS = ['selector', 'net'] as const;
export type TcpDriver = (typeof TCP_DRIVERS)[number];

/** Run `workload`'s selector driver, or `onNet` (its node:net driver) as the options and the platform decide. */
export async function runOnTcpDriver(
  workload: SelectorWorkload,
  opts: DriverOptions,
  onNet: (opts: DriverOptions) => Promise<DriverResult>,
): Promise<DriverResult> {
  const which = opts.tcpDriver;
  if (which === 'net') return onNet(opts);
  if (which !== undefined && which !== 'selector') {
    throw new Error(`unknown tcp driver "${which}" (valid: ${TCP_DRIVERS.join(', ')})`);
  }
  let mod: typeof import('./selector-runner.js');
  try {
    // Loaded lazily: on a platform without libc/koffi the import itself throws.
    mod = await import('./selector-runner.js');
  } catch (err) {
    if (which === 'selector') throw new Error(`the selector driver cannot run here: ${String(err)}`, { cause: err });
    return onNet(opts);
  }
  const why = mod.selectorDriverUnavailable();
  if (why !== undefined) {
    if (which === 'selector') throw new Error(`the selector driver cannot run here: ${why}`);
    return onNet(opts);
  }
  return mod.runSelectorDriver(workload, opts);
}
