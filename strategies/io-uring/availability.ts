/**
 * io-uring availability for the registry: whether io_uring works in *this*
 * environment (kernel, kernel.io_uring_disabled, seccomp), decided once per
 * process by a probe child (see probe.ts) and cached.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Availability } from '../registry.js';

const PROBE = fileURLToPath(new URL('./probe.js', import.meta.url));
/** The environment variable that turns the strategy off (tests, or a user who wants it listed as unavailable). */
export const DISABLE_ENV = 'IOMODELS_DISABLE_IO_URING';

/** Turn the probe child's outcome into an Availability. Pure: unit-tested. */
export function interpretProbe(r: Pick<SpawnSyncReturns<string>, 'status' | 'signal' | 'stdout' | 'stderr' | 'error'>): Availability {
  if (r.error !== undefined) return { ok: false, reason: `io_uring probe could not run: ${r.error.message}` };
  if (r.signal === 'SIGSYS') {
    return { ok: false, reason: 'io_uring_setup is forbidden here: the probe was killed by SIGSYS (a seccomp filter)' };
  }
  if (r.signal !== null) return { ok: false, reason: `io_uring probe was killed by ${r.signal}` };
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const v = JSON.parse(line) as { ok?: unknown; reason?: unknown };
    if (v.ok === true) return { ok: true };
    if (v.ok === false && typeof v.reason === 'string') return { ok: false, reason: v.reason };
  } catch {
    // Fall through: report what the child said.
  }
  const err = r.stderr.trim().split('\n')[0] ?? '';
  return { ok: false, reason: `io_uring probe failed (exit ${r.status ?? '?'})${err === '' ? '' : `: ${err}`}` };
}

let cached: Availability | undefined;

export function ioUringAvailability(env: NodeJS.ProcessEnv = process.env): Availability {
  const off = env[DISABLE_ENV];
  if (off !== undefined && off !== '' && off !== '0') return { ok: false, reason: `turned off by ${DISABLE_ENV}=${off}` };
  if (process.platform !== 'linux') return { ok: false, reason: `io_uring is Linux-only (this is ${process.platform})` };
  if (cached !== undefined) return cached;
  const r = spawnSync(process.execPath, [PROBE], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  cached = interpretProbe(r);
  return cached;
}
