/** Reading results.json with errors that name the file and the problem. */
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { SCHEMA_VERSION, type Results } from '../core/results.js';

export function loadResults(file: string): Results {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? 'error'})`}`);
  }
  if (text.trim() === '') throw new UsageError(`${file}: empty file, not a results.json`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`${file}: not valid JSON (corrupt or truncated results file)`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new UsageError(`${file}: not a results object`);
  const r = data as Partial<Results>;
  if (r.schemaVersion !== SCHEMA_VERSION) {
    throw new UsageError(`${file}: schemaVersion ${String(r.schemaVersion)} is not ${SCHEMA_VERSION} (not an iomodels results file, or from another version)`);
  }
  if (!Array.isArray(r.cells)) throw new UsageError(`${file}: no "cells" array`);
  if (typeof r.plan !== 'object' || typeof r.machine !== 'object') throw new UsageError(`${file}: missing "plan" or "machine"`);
  for (const [i, c] of r.cells.entries()) {
    const cell = c as Partial<Results['cells'][number]> | null;
    if (cell === null || typeof cell !== 'object' || typeof cell.strategy !== 'string' || typeof cell.workload !== 'string' || typeof cell.connections !== 'number' || typeof cell.opsPerSec !== 'number') {
      throw new UsageError(`${file}: cells[${i}] lacks strategy/workload/connections/opsPerSec`);
    }
    // The fields a verdict rests on: a cell without them cannot be judged.
    if (!Number.isFinite(cell.opsPerSec) || cell.opsPerSec < 0) throw new UsageError(`${file}: cells[${i}].opsPerSec is ${String(cell.opsPerSec)}, not a rate >= 0`);
    if (cell.status !== 'ok' && cell.status !== 'capped' && cell.status !== 'failed') {
      throw new UsageError(`${file}: cells[${i}].status is ${JSON.stringify(cell.status)}, not ok/capped/failed`);
    }
    if (typeof cell.rep !== 'number' || !Number.isInteger(cell.rep) || cell.rep < 0) throw new UsageError(`${file}: cells[${i}].rep is not a repetition index`);
    if (typeof cell.clientBound !== 'boolean') throw new UsageError(`${file}: cells[${i}].clientBound is not true/false`);
  }
  return r as Results;
}
