/**
 * HDR latency histograms in microseconds. Workers serialize theirs and the
 * harness merges them; percentiles are never averaged (autocannon's rule).
 */
import * as hdr from 'hdr-histogram-js';

/** Highest latency a histogram tracks: 10 minutes, in µs. */
const HIGHEST_US = 600_000_000;

export type LatencyHistogram = hdr.Histogram;

export function newHistogram(): LatencyHistogram {
  return hdr.build({
    bitBucketSize: 64,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** Record one latency, clamped into the trackable range. */
export function recordUs(h: LatencyHistogram, us: number): void {
  h.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(us))));
}

/** Latencies below this (µs) are counted in a plain array first: exact, and cheaper per op than the HDR index math. */
const DIRECT_US = 1 << 16;

/**
 * A histogram fed at load-generator rates. Values under DIRECT_US are
 * counted per µs in a Uint32Array and moved into the HDR histogram (each
 * value with its count) when it is read: the same histogram as recording
 * them one by one, for a fraction of the cost per op.
 */
export class FastHistogram {
  readonly #hist = newHistogram();
  readonly #direct = new Uint32Array(DIRECT_US);
  #pending = 0;

  recordUs(us: number): void {
    const v = Math.min(HIGHEST_US, Math.max(1, Math.round(us)));
    if (v < DIRECT_US) {
      const n = this.#direct[v] ?? 0;
      // A count near u32's limit goes over now, so the array never wraps.
      if (n === 0xfffffff0) this.#flush();
      this.#direct[v] = (this.#direct[v] ?? 0) + 1;
      this.#pending++;
    } else {
      this.#hist.recordValue(v);
    }
  }

  /** Everything recorded so far, as one HDR histogram. */
  histogram(): LatencyHistogram {
    this.#flush();
    return this.#hist;
  }

  #flush(): void {
    if (this.#pending === 0) return;
    const d = this.#direct;
    for (let v = 1; v < DIRECT_US; v++) {
      const n = d[v] ?? 0;
      if (n > 0) {
        this.#hist.recordValueWithCount(v, n);
        d[v] = 0;
      }
    }
    this.#pending = 0;
  }
}

export function encodeHistogram(h: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(encoded, 64, false);
}

/** Merge serialized histograms into one. */
export function mergeEncoded(encoded: readonly string[]): LatencyHistogram {
  const out = newHistogram();
  for (const e of encoded) out.add(decodeHistogram(e));
  return out;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  count: number;
}

export function summarize(h: LatencyHistogram): LatencySummary {
  const count = h.totalCount;
  if (count === 0) return { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0 };
  return {
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
    mean: Math.round(h.mean * 10) / 10,
    count,
  };
}
