/**
 * End to end: an A/A pair of real bench runs on this machine (libuv echo,
 * 5 repetitions a side, 1 s windows) must not be flagged by `check`.
 *
 * The two sides are interleaved round by round (A B A B …), pooled by
 * `check`, as the CI workflow does: this machine is shared and its speed
 * drifts by 2× within a minute, so two back-to-back runs can differ for
 * reasons no gate should blame on the code. Interleaving makes drift hit
 * both sides alike, which is what an A/A test must show.
 * Bounded: 10 bench runs of one ~2 s cell, about 30 s in all.
 *
 * (The A/B end-to-end case, http against http with one extra syscall per
 * request, is check-extra-syscalls.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { checkRun, interleavedBenches } from '../helpers/bench.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-aa-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ECHO = ['--strategies', 'libuv', '--workloads', 'echo', '--connections', '100', '--duration', '1', '--warmup', '0.25', '--repeat', '1', '--no-charts'];

test('an interleaved A/A pair of real bench runs is not flagged', () => {
  const [a, b] = interleavedBenches(dir, 5, [
    { name: 'a', args: ECHO },
    { name: 'b', args: ECHO },
  ]);
  const r = checkRun(a, b);
  assert.equal(r.status, 0, `A/A must pass the gate; stdout:\n${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stdout, /\| \| ops\/s \| .*\(n=5\).*\(n=5\)/, 'five repetitions a side were compared');
  assert.doesNotMatch(r.stdout, /❌ \*\*REGRESSION/, 'no metric of the cell is a regression');
});
