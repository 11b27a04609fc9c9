/**
 * autocannon as the HTTP load generator: the ecosystem's standard
 * (keep-alive, optional pipelining), to cross-check our native driver.
 * Its latency histogram records whole milliseconds (the fraction cut off);
 * we merge it into our µs histogram at each millisecond's midpoint
 * (v + 0.5 ms), so percentiles from this driver have 1 ms resolution and a
 * sub-millisecond reply reads 500 µs, not 0.
 *
 * The request and the check come from the same sans-IO client as our
 * driver's (workloads/http/client.ts): autocannon gets its method, path,
 * headers and body, and `expectBody` when a body is expected (the page, or
 * --expect-body, compared as UTF-8 text: autocannon keeps bodies as
 * strings). Its per-status counts are judged by our status set, so a
 * status outside it is the same `http status NNN` error our driver
 * reports, and a body mismatch is `http body`. autocannon cannot frame
 * HEAD responses (its parser is never told the method), so the CLI keeps
 * HEAD to our driver.
 */
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import { bumpError, phaseClock, type DriverOptions, type DriverResult } from './driver.js';
import { encodeHistogram, newHistogram, type LatencyHistogram } from '../../core/latency.js';
import { GATE_POLL_MS } from './window.js';
import { autocannonCan } from './drivers.js';
import { untilOpen, WindowGate } from './window-gate.js';
import { httpClient, type HttpClient } from '../../workloads/http/client.js';
import { hostHeader } from '../../workloads/http/request.js';
import { HTTP_ERRORS, statusKind } from '../../workloads/http/response-reader.js';

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
  statusCodeStats: Record<string, { count: number } | undefined>;
  duration: number;
}

function pipelining(opts: DriverOptions): number {
  if (opts.protocol['httpClose'] === true) return 1;
  const v = opts.protocol['pipelining'];
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1;
}

function run(opts: DriverOptions, client: HttpClient, durationSec: number): Promise<RawResult> {
  const rate = opts.rate ?? 0;
  const { shape, check } = client;
  const o: autocannon.Options = {
    url: `http://${hostHeader(opts.host, opts.port)}${shape.path}`,
    connections: opts.connections,
    duration: durationSec,
    pipelining: client.closes ? 1 : pipelining(opts),
    timeout: Math.max(1, Math.ceil(opts.timeoutMs / 1000)),
    method: shape.method as autocannon.Request['method'],
    ...(shape.headers.length === 0 ? {} : { headers: Object.fromEntries(shape.headers) }),
    ...(shape.body === undefined ? {} : { body: Buffer.from(shape.body) }),
    ...(check.body === undefined ? {} : { expectBody: check.body.toString('utf8') }),
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
  const client = httpClient(opts.http, opts.host, opts.port);
  if (!autocannonCan(client.shape.method, client.shape.path)) throw new Error(`autocannon cannot send ${client.shape.method} ${client.shape.path}: HEAD responses and request targets other than /… need the native driver`);
  opts.onPhase?.('connected', phaseClock());
  // autocannon keeps its own connections: nothing to settle before the window.
  opts.onReady?.();
  if (opts.warmupSec > 0) await run(opts, client, opts.warmupSec);
  // autocannon runs for a duration it is given up front, so it starts its
  // window run once the gate has opened rather than at the gate's instant.
  if (opts.gate !== undefined) await untilOpen(new WindowGate(opts.gate), GATE_POLL_MS);
  opts.onPhase?.('measuring', phaseClock());
  const r = await run(opts, client, opts.durationSec);
  opts.onPhase?.('draining', phaseClock());
  const rate = opts.rate ?? 0;
  const errors: Record<string, number> = {};
  // Judged by our status set, not autocannon's 2xx: the same kinds our driver reports.
  let allowed = 0;
  for (const [code, stat] of Object.entries(r.statusCodeStats)) {
    const status = Number(code);
    const n = stat?.count ?? 0;
    if (client.check.allowed[status] === 1) allowed += n;
    else if (n > 0) bumpError(errors, statusKind(status), n);
  }
  if (r.mismatches > 0) bumpError(errors, HTTP_ERRORS.body, r.mismatches);
  if (r.timeouts > 0) bumpError(errors, 'timeout', r.timeouts);
  if (r.errors - r.timeouts > 0) bumpError(errors, 'socket', r.errors - r.timeouts);
  if (r.resets > 0) bumpError(errors, 'reset', r.resets);
  // A mismatch may be on any status; counting it off the allowed ones never overstates what verified.
  const ok = Math.max(0, allowed - r.mismatches);
  const result: DriverResult = {
    driver: 'autocannon',
    // autocannon does not report connections it failed to open; those
    // failures surface as its `errors` (counted under `socket` above). At a
    // rate below the connection count it opens only `rate` of them (one
    // request per second each at least).
    established: rate > 0 ? Math.min(opts.connections, rate) : opts.connections,
    ops: ok,
    bytes: r.totalBytes,
    windowSec: r.duration > 0 ? r.duration : opts.durationSec,
    histogram: encodeHistogram(msToUs(r.latencies)),
    errors,
    extra: { pipelining: client.closes ? 1 : pipelining(opts), latencyResolutionUs: 1000 },
  };
  if (rate > 0) result.targetRate = rate;
  return result;
}
