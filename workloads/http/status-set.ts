/**
 * The final statuses a reply may carry (`bench --expect-status`): "2xx",
 * "200", "200,204", "200-299" or a mix. Kept as a lookup table so the
 * response reader tests a status with one index, whatever the list.
 */

/** Final statuses are 200-599; 1xx are interim and never end an exchange. */
const MIN_FINAL = 200;
const MAX_STATUS = 599;

export interface StatusSet {
  /** 1 at each allowed status (index = status). */
  readonly allowed: Uint8Array;
  /** The set as a person would type it, normalized ("2xx", "200,204"). */
  readonly text: string;
}

export const DEFAULT_STATUSES = '2xx';

/** `text` as a StatusSet, or the reason it is not one. */
export function parseStatusSet(text: string): StatusSet | { error: string } {
  const allowed = new Uint8Array(MAX_STATUS + 1);
  const parts = text.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) return { error: 'a comma-separated list of statuses like 200, 200,204, 2xx or 200-299' };
  for (const p of parts) {
    let lo: number;
    let hi: number;
    const cls = /^([1-5])xx$/i.exec(p);
    const range = /^(\d{3})-(\d{3})$/.exec(p);
    if (cls !== null) {
      lo = Number(cls[1]) * 100;
      hi = lo + 99;
    } else if (range !== null) {
      lo = Number(range[1]);
      hi = Number(range[2]);
      if (hi < lo) return { error: `the range ${p} runs backwards` };
    } else if (/^\d{3}$/.test(p)) {
      lo = hi = Number(p);
    } else {
      return { error: `"${p}" is not a status, a class like 2xx or a range like 200-299` };
    }
    if (hi > MAX_STATUS || lo < 100) return { error: `${p} is outside 100-599` };
    if (lo < MIN_FINAL) return { error: `${p}: 1xx responses are interim (100 Continue is skipped, others are errors), never the final reply` };
    allowed.fill(1, lo, hi + 1);
  }
  return { allowed, text: normalize(allowed) };
}

/** The set as runs of whole classes ("2xx"), ranges ("200-206") and single statuses. */
function normalize(allowed: Uint8Array): string {
  const out: string[] = [];
  let s = MIN_FINAL;
  while (s <= MAX_STATUS) {
    if (allowed[s] !== 1) {
      s++;
      continue;
    }
    let e = s;
    while (e + 1 <= MAX_STATUS && allowed[e + 1] === 1) e++;
    // Whole classes inside the run read as "2xx".
    let a = s;
    while (a <= e) {
      if (a % 100 === 0 && a + 99 <= e) {
        out.push(`${a / 100}xx`);
        a += 100;
        continue;
      }
      // Up to the next whole class that fits in the run, else to its end.
      const next = (Math.floor(a / 100) + 1) * 100;
      const b = next + 99 <= e ? next - 1 : e;
      out.push(b === a ? String(a) : `${a}-${b}`);
      a = b + 1;
    }
    s = e + 1;
  }
  return out.join(',');
}
