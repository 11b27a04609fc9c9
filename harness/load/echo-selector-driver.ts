/**
 * The selector echo driver: EchoSelectorLoop (selector-loop.ts) run by
 * ../selector-driver.ts, in its own worker_thread by default.
 */
import type { DriverOptions, DriverResult } from './driver.js';
import { runSelectorDriver, type SelectorDriverMode } from './selector-runner.js';

export function runSelectorEchoDriver(opts: DriverOptions, mode: SelectorDriverMode = 'worker'): Promise<DriverResult> {
  return runSelectorDriver('echo', opts, mode);
}
