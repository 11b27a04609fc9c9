/**
 * autocannon as the HTTP load generator: the ecosystem's standard
 * (keep-alive, optional pipelining), to cross-check our native driver.
 * Its latency histogram records whole milliseconds (the fraction cut off);
 * we merge it into our µs histogram at each millisecond's midpoint
 * (v + 0.5 ms), so percentiles from this driver have 1 ms resolution and a
 * sub-millisecond reply reads 500 µs, not 0. Every response is checked by autocannon: non-2xx and bodies
 * that differ from the page (`expectBody`) count as `verify` errors.
 */
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { bumpError, phaseClock, type DriverOptions, type DriverResult } from './driver.js';
import { encodeHistogram, newHistogram, type LatencyHistogram } from '../../core/latency.js';
import { GATE_POLL_MS } from './window.js';
import { untilOpen, WindowGate } from './window-gate.js';
import { PAGE_HTML } from '../../workloads/http/page.js';

/** The raw (unaggregated) result autocannon returns with skipAggregateResult. */
interface RawResult {
  latencies: string | null;
  totalCompletedRequests: number;
  totalBytes: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  resets: number;
  '2xx': number;
  duration: number;
}

function pipelining(opts: DriverOptions): number {
  if (opts.protocol['httpClose'] === true) return 1;
  const v = opts.protocol['pipelining'];
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1;
}

function run(opts: DriverOptions, durationSec: number): Promise<RawResult> {
  const rate = opts.rate ?? 0;
  const o: autocannon.Options = {
    url: `http://${opts.host}:${opts.port}/`,
    connections: opts.connections,
    duration: durationSec,
    pipelining: pipelining(opts),
    timeout: Math.max(1, Math.ceil(opts.timeoutMs / 1000)),
    expectBody: PAGE_HTML,
    skipAggregateResult: true,
    ...(rate > 0 ? { overallRate: rate } : {}),
  };
  return new Promise((resolve, reject) => {
    autocannon(o, (err: Error | null, result: unknown) => {
      if (err !== null) reject(err);
      else resolve(result as RawResult);
    });
  });
}

/** autocannon's ms histogram → ours in µs (each whole ms at its midpoint). */
function msToUs(encoded: string | null): LatencyHistogram {
  const out = newHistogram();
  if (encoded === null) return out;
  const ms = hdr.decodeFromCompressedBase64(encoded, 64, false);
  if (!(ms instanceof hdr.JsHistogram)) return out;
  const it = ms.recordedValuesIterator;
  it.reset();
  while (it.hasNext()) {
    const v = it.next();
    out.recordValueWithCount(Math.round((v.valueIteratedTo + 0.5) * 1000), v.countAtValueIteratedTo);
  }
  return out;
}

export async function runAutocannonDriver(opts: DriverOptions): Promise<DriverResult> {
  opts.onPhase?.('connected', phaseClock());
  // autocannon keeps its own connections: nothing to settle before the window.
  opts.onReady?.();
  if (opts.warmupSec > 0) await run(opts, opts.warmupSec);
  // autocannon runs for a duration it is given up front, so it starts its
  // window run once the gate has opened rather than at the gate's instant.
  if (opts.gate !== undefined) await untilOpen(new WindowGate(opts.gate), GATE_POLL_MS);
  opts.onPhase?.('measuring', phaseClock());
  const r = await run(opts, opts.durationSec);
  opts.onPhase?.('draining', phaseClock());
  const errors: Record<string, number> = {};
  if (r.non2xx > 0) bumpError(errors, 'verify', r.non2xx);
  if (r.mismatches > 0) bumpError(errors, 'verify', r.mismatches);
  if (r.timeouts > 0) bumpError(errors, 'timeout', r.timeouts);
  if (r.errors - r.timeouts > 0) bumpError(errors, 'socket', r.errors - r.timeouts);
  if (r.resets > 0) bumpError(errors, 'reset', r.resets);
  const ok = Math.max(0, r['2xx'] - r.mismatches);
  const result: DriverResult = {
    driver: 'autocannon',
    // autocannon does not report connections it failed to open; those
    // failures surface as its `errors` (counted under `socket` above).
    established: opts.connections,
    ops: ok,
    bytes: r.totalBytes,
    windowSec: r.duration > 0 ? r.duration : opts.durationSec,
    histogram: encodeHistogram(msToUs(r.latencies)),
    errors,
    extra: { pipelining: pipelining(opts), latencyResolutionUs: 1000 },
  };
  if ((opts.rate ?? 0) > 0) result.targetRate = opts.rate ?? 0;
  return result;
}
