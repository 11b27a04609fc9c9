/**
 * The load of each workload: its client module run by a transport over the
 * load threads (load-threads.ts), or for http when asked autocannon, the
 * ecosystem's reference, over the same threads.
 */
import { getWorkload } from '../../workloads/protocols.js';
import type { DriverOptions, DriverResult } from './driver.js';
import { runClientLoad } from './load-threads.js';
import { chooseTransport } from './tcp-layer.js';

export const HTTP_DRIVERS = ['native', 'autocannon'] as const;

/**
 * What autocannon can send and read: not HEAD (its response parser is never
 * told the method, so it waits for a body), and origin-form targets only
 * (it takes a URL). Here rather than in http-autocannon.ts, so the CLI can
 * ask without loading autocannon.
 */
export function autocannonCan(method: string, path: string): boolean {
  return method.toUpperCase() !== 'HEAD' && path.startsWith('/');
}

export async function runDriver(workload: string, opts: DriverOptions): Promise<DriverResult> {
  const w = getWorkload(workload);
  const http = opts.httpDriver ?? 'native';
  if (!(HTTP_DRIVERS as readonly string[]).includes(http)) throw new Error(`unknown http driver "${http}" (valid: ${HTTP_DRIVERS.join(', ')})`);
  // autocannon over the load threads as well: one instance per thread, each
  // with its share of the connections and of the rate, histograms merged.
  const transport = workload === 'http' && http === 'autocannon' ? 'autocannon' : await chooseTransport(opts.tcpDriver);
  const r = await runClientLoad(opts, {
    clientModule: w.client,
    transport,
    ...(w.maxLoadThreads === undefined ? {} : { maxThreads: w.maxLoadThreads }),
    ...(workload === 'http' && opts.http !== undefined ? { clientSpec: opts.http } : {}),
  });
  return transport === 'net' ? { ...r, driver: 'net' } : r;
}
