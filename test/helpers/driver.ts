/**
 * DriverOptions for the load drivers' tests: one place that lists every
 * field a driver needs, so a new required one is added once. Callers
 * override only what their test is about.
 */
import type { DriverOptions } from '../../harness/load/driver.js';

/** 4 connections to 127.0.0.1:`port`, a 0.1 s warm-up and a 0.5 s window, closed loop, then `over`. */
export function driverOptions(port: number, over: Partial<DriverOptions> = {}): DriverOptions {
  return {
    host: '127.0.0.1',
    port,
    connections: 4,
    warmupSec: 0.1,
    durationSec: 0.5,
    timeoutMs: 3000,
    connectConcurrency: 10,
    connectTimeoutMs: 5000,
    protocol: {},
    ...over,
  };
}
