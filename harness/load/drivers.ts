/** The load driver of each workload: the client half that drives and verifies its server. */
import type { DriverOptions, DriverResult } from './driver.js';
import { runChatDriver } from './chat-net.js';
import { runEchoDriver } from './echo-net.js';
import { runHttpDriver } from './http-net.js';

const DRIVERS: Readonly<Record<string, (o: DriverOptions) => Promise<DriverResult>>> = {
  echo: runEchoDriver,
  chat: runChatDriver,
  http: runHttpDriver,
};

export function runDriver(workload: string, opts: DriverOptions): Promise<DriverResult> {
  const run = DRIVERS[workload];
  if (run === undefined) return Promise.reject(new Error(`no load driver for workload "${workload}"`));
  return run(opts);
}
