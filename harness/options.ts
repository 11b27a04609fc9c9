/**
 * Validation of every CLI value, in one place (autocannon's validate.js):
 * each bad value becomes a UsageError that names the flag.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { findStrategy, strategyNames, STRATEGIES, supportsWorkload } from '../strategies/registry.js';
import { methodProblem, parseHeader, pathProblem } from '../workloads/http/request.js';
import { parseStatusSet } from '../workloads/http/status-set.js';
import type { AnatomyMode, FileRef } from '../core/results.js';
import { ANATOMY_MODES } from './anatomy.js';
import { TCP_DRIVERS, type TcpDriver } from './load/tcp-layer.js';
import { workloadNames } from '../workloads/protocols.js';
import type { CellRef } from '../reports/aggregate.js';
import { UsageError } from '../core/errors.js';

/**
 * A decimal number ("12", "0.5", "1e3"), or NaN. Number() alone would also
 * take "0x10", "0b1", " " and "Infinity", which no one means on a command line.
 */
function decimal(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return Number.NaN;
  const s = v.trim();
  return /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i.test(s) ? Number(s) : Number.NaN;
}

export function positiveInt(flag: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const n = decimal(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive integer, got "${String(v)}"`);
  if (n > max) throw new UsageError(`${flag} must be at most ${max}, got ${n}`);
  return n;
}

export function nonNegativeInt(flag: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const n = decimal(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} must be a whole number >= 0, got "${String(v)}"`);
  if (n > max) throw new UsageError(`${flag} must be at most ${max}, got ${n}`);
  return n;
}

export function positiveNumber(flag: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const n = decimal(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a number > 0, got "${String(v)}"`);
  if (n > max) throw new UsageError(`${flag} must be at most ${max}, got ${n}`);
  return n;
}

export function nonNegativeNumber(flag: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const n = decimal(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number >= 0, got "${String(v)}"`);
  if (n > max) throw new UsageError(`${flag} must be at most ${max}, got ${n}`);
  return n;
}

export function portNumber(flag: string, v: unknown): number {
  const n = nonNegativeInt(flag, v);
  if (n > 65535) throw new UsageError(`${flag} must be 0-65535, got ${n}`);
  return n;
}

/** "0,1000,10000" → [0, 1000, 10000]: like intList, but 0 is allowed. */
export function countList(flag: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number[] {
  const parts = String(v)
    .split(',')
    .map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new UsageError(`${flag} must be a comma-separated list of whole numbers >= 0, got "${String(v)}"`);
  const out = parts.map((p) => nonNegativeInt(flag, p, max));
  return [...new Set(out)].sort((a, b) => a - b);
}

/** "1,10,100" → [1, 10, 100]; every entry validated. */
export function intList(flag: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number[] {
  const parts = String(v)
    .split(',')
    .map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new UsageError(`${flag} must be a comma-separated list of positive integers, got "${String(v)}"`);
  const out = parts.map((p) => positiveInt(flag, p, max));
  return [...new Set(out)].sort((a, b) => a - b);
}

function nameList(v: unknown): string[] {
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function workloadList(flag: string, v: unknown): string[] {
  const valid = workloadNames();
  const names = v === undefined || v === 'all' ? valid : nameList(v);
  if (names.length === 0) throw new UsageError(`${flag} is empty (valid: ${valid.join(', ')})`);
  for (const n of names) {
    if (!valid.includes(n)) throw new UsageError(`unknown workload "${n}" in ${flag} (valid: ${valid.join(', ')})`);
  }
  return [...new Set(names)];
}

/**
 * Strategies for a sweep. "all" (the default) means every strategy available
 * on this machine that serves at least one of the workloads; naming an
 * unavailable one is an error that says why.
 */
export function strategyList(flag: string, v: unknown, workloads: readonly string[]): string[] {
  const valid = strategyNames();
  if (v === undefined || v === 'all') {
    return STRATEGIES.filter((s) => s.availability().ok && workloads.some((w) => supportsWorkload(s, w))).map((s) => s.name);
  }
  const names = nameList(v);
  if (names.length === 0) throw new UsageError(`${flag} is empty (valid: ${valid.join(', ')})`);
  for (const n of names) {
    const info = findStrategy(n);
    if (info === undefined) throw new UsageError(`unknown strategy "${n}" in ${flag} (valid: ${valid.join(', ')})`);
    if (!workloads.some((w) => supportsWorkload(info, w))) {
      throw new UsageError(`strategy ${n} serves none of --workloads ${workloads.join(',')} (it serves ${(info.workloads ?? []).join(', ')})`);
    }
  }
  return [...new Set(names)];
}

/** Loopback only, unless the user says otherwise. */
export function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1' || host === 'localhost';
}

/** "512M", "4G", "1.5GiB", "1048576" → bytes. */
export function byteSize(flag: string, v: unknown): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(String(v));
  if (m === null) throw new UsageError(`${flag} must be a size like 512M or 4G, got "${String(v)}"`);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.round(Number(m[1]) * mult);
  if (n <= 0) throw new UsageError(`${flag} must be more than 0, got "${String(v)}"`);
  return n;
}

/** `--tcp-driver`: one of TCP_DRIVERS. */
export function anatomyOption(flag: string, v: unknown): AnatomyMode {
  const s = String(v);
  const hit = ANATOMY_MODES.find((m) => m === s);
  if (hit === undefined) throw new UsageError(`${flag} must be one of ${ANATOMY_MODES.join(', ')}, got "${s}"`);
  return hit;
}

export function tcpDriverOption(flag: string, v: unknown): TcpDriver {
  const s = String(v);
  const hit = TCP_DRIVERS.find((d) => d === s);
  if (hit === undefined) throw new UsageError(`${flag} must be one of ${TCP_DRIVERS.join(', ')}, got "${s}"`);
  return hit;
}

/**
 * A relative tolerance: "5%" or a fraction "0.05", in [0, 1). A bare "5"
 * is refused rather than guessed (500%? 5%?).
 */
export function tolerance(flag: string, v: unknown): number {
  const s = String(v).trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  const n = pct !== null ? Number(pct[1]) / 100 : s !== '' && /^[0-9.eE+-]+$/.test(s) ? Number(s) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n >= 1) {
    throw new UsageError(`${flag} must be a percentage like 5% or a fraction like 0.05, below 100%; got "${s}"`);
  }
  return n;
}

/** A probability strictly between 0 and 1 (a significance level). */
export function probability(flag: string, v: unknown): number {
  const s = String(v).trim();
  const n = s !== '' && /^[0-9.eE+-]+$/.test(s) ? Number(s) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0 || n >= 1) throw new UsageError(`${flag} must be a number between 0 and 1 (exclusive), like 0.01; got "${s}"`);
  return n;
}

/**
 * "libuv/echo/100" or "libuv/echo/100/idle=1000" → a cell reference, the
 * two forms of the keys `check` prints. Names are checked against the
 * files, not the registry.
 */
export function cellRef(flag: string, v: unknown): CellRef {
  const s = String(v).trim();
  const parts = s.split('/');
  const [strategy, workload, conns, idlePart] = parts;
  const idle = idlePart === undefined ? undefined : /^idle=(.*)$/.exec(idlePart)?.[1];
  if (
    (parts.length !== 3 && parts.length !== 4) ||
    strategy === undefined ||
    workload === undefined ||
    conns === undefined ||
    strategy === '' ||
    workload === '' ||
    (idlePart !== undefined && idle === undefined)
  ) {
    throw new UsageError(`${flag} must be STRATEGY/WORKLOAD/CONNECTIONS[/idle=N] like libuv/echo/100 or libuv/echo/100/idle=1000; got "${s}"`);
  }
  const ref: CellRef = { strategy, workload, connections: positiveInt(`${flag} connections`, conns) };
  if (idle !== undefined) {
    // idle=0 names the same cell as the three-part form.
    const n = nonNegativeInt(`${flag} idle`, idle);
    if (n > 0) ref.idle = n;
  }
  return ref;
}

/** `--method`: an HTTP method token. */
export function httpMethod(flag: string, v: unknown): string {
  const m = String(v);
  const why = methodProblem(m);
  if (why !== null) throw new UsageError(`${flag} ${why}`);
  return m;
}

/** `--path`: a request target. */
export function httpPath(flag: string, v: unknown): string {
  const p = String(v);
  const why = pathProblem(p);
  if (why !== null) throw new UsageError(`${flag} ${why}`);
  return p;
}

/** `--header` (repeatable): each "Name: value", checked; returned as "Name: value" in order. */
export function httpHeaders(flag: string, v: unknown): string[] {
  const all = (Array.isArray(v) ? v : [v]).map(String);
  const out: string[] = [];
  for (const h of all) {
    const p = parseHeader(h);
    if ('error' in p) throw new UsageError(`${flag} ${p.error}`);
    out.push(`${p[0]}: ${p[1]}`);
  }
  const hosts = out.filter((h) => /^host:/i.test(h)).length;
  if (hosts > 1) throw new UsageError(`${flag} gives Host ${hosts} times: a request has one`);
  return out;
}

/** `--expect-status`: "2xx", "200", "200,204", "200-299" → its normalized text. */
export function statusSet(flag: string, v: unknown): string {
  const r = parseStatusSet(String(v));
  if ('error' in r) throw new UsageError(`${flag} ${r.error}, got "${String(v)}"`);
  return r.text;
}

/** The largest --body / --expect-body file: each connection's request (or check) holds a copy. */
export const MAX_HTTP_FILE = 16 * 2 ** 20;

/** `--body`, `--expect-body`: a readable regular file of at most `max` bytes, read now and named by its hash. */
export function inputFile(flag: string, v: unknown, max = MAX_HTTP_FILE): { ref: FileRef; bytes: Buffer } {
  const f = String(v);
  if (f.trim() === '') throw new UsageError(`${flag} needs a file`);
  let bytes: Buffer;
  try {
    const st = statSync(f);
    if (!st.isFile()) throw new UsageError(`${flag} ${f}: not a regular file`);
    if (st.size > max) throw new UsageError(`${flag} ${f}: ${st.size} bytes, more than the ${max} allowed`);
    bytes = readFileSync(f);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag} ${f}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? String(err))}`);
  }
  return { ref: { file: path.resolve(f), bytes: bytes.length, sha256: sha256(bytes) }, bytes };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
