/** `iomodels micro`: the readiness-wait shape and the output files. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { MicroResults } from '../core/micro.js';
import { CLI } from './helpers/serve.js';

test('micro writes micro.json, its chart and micro.md; epoll stays flat where select, poll and the sigio scan grow', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'iomodels-micro-'));
  const r = spawnSync(process.execPath, [CLI, 'micro', '--counts', '10,1000,2000', '--time', '60', '--out', out], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `micro failed: ${r.stderr}`);
  const m = JSON.parse(readFileSync(path.join(out, 'micro.json'), 'utf8')) as MicroResults;
  const at = (mech: string, idle: number): number => {
    const p = m.wait.find((w) => w.mechanism === mech && w.fds === idle + 1);
    assert.ok(p !== undefined, `${mech} measured at ${idle} idle fds`);
    return p.nsPerWait;
  };
  for (const w of m.wait) assert.ok(['select', 'poll', 'epoll', 'sigio'].includes(w.mechanism) && w.nsPerWait > 0, `a wait point is well-formed: ${JSON.stringify(w)}`);
  // Orders of magnitude apart here (≈150 µs vs ≈1 µs), so noise cannot flip them.
  assert.ok(at('poll', 1000) > 5 * at('epoll', 1000), 'poll over 1,000 fds costs far more than epoll_wait');
  assert.ok(at('select', 1000) > 5 * at('epoll', 1000), 'select over 1,000 fds costs far more than epoll_wait');
  assert.ok(at('poll', 1000) > 5 * at('poll', 10), 'poll grows with the number of fds');
  assert.ok(at('epoll', 1000) < 5 * at('epoll', 10), 'epoll_wait stays flat');
  assert.ok(at('sigio', 1000) > 5 * at('sigio', 10), "sigio's scan grows with the number of fds");
  assert.ok(at('sigio', 1000) > 5 * at('epoll', 1000), 'a sigio scan over 1,000 fds costs far more than epoll_wait');
  assert.equal(m.wait.some((w) => w.mechanism === 'select' && w.fds > 1024), false, 'select never watches an fd past FD_SETSIZE');
  assert.ok(m.notes.some((n) => n.startsWith('select: 2000 idle fds do not fit below FD_SETSIZE')), `the missing select point is explained: ${m.notes.join('; ')}`);
  assert.ok(m.ops.some((o) => o.name.includes('getpid')) && m.ops.some((o) => o.name.includes('EAGAIN')), 'FFI and EAGAIN costs measured');
  assert.ok(m.ops.some((o) => o.name.startsWith('HTTP request parse') && o.nsPerOp > 0), 'HTTP parse cost measured');
  const png = readFileSync(path.join(out, 'micro-wait.png'));
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', 'the chart is a PNG');
  assert.equal(png.readUInt32BE(16), 1200, 'chart width');
  assert.equal(png.readUInt32BE(20), 700, 'chart height');
  assert.match(readFileSync(path.join(out, 'micro.md'), 'utf8'), /\| 1,001 \| .* \| .* \| .* \| .* \|/, 'micro.md tabulates 1,001 watched fds');
});
