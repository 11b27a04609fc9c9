/**
 * Real `bench` and `check` runs through the CLI for the end-to-end gate
 * tests. The two sides are interleaved round by round (A B A B …), as the
 * CI workflow does: this machine is shared and its speed drifts within a
 * minute, and interleaving makes drift hit both sides alike instead of
 * being blamed on the code.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';
import { CLI } from './serve.js';

/** One side of the pair: its name (its runs go to `${name}${round}`) and its bench flags, --out aside. */
export interface BenchSide {
  readonly name: string;
  readonly args: readonly string[];
}

function bench(out: string, args: readonly string[]): void {
  const r = spawnSync(process.execPath, [CLI, 'bench', ...args, '--out', out], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `bench into ${out} exited ${r.status}: ${r.stderr}`);
}

/** `rounds` runs of each side into `dir`, interleaved; returns each side's results.json paths. */
export function interleavedBenches(dir: string, rounds: number, [first, second]: readonly [BenchSide, BenchSide]): [string[], string[]] {
  const runs: [string[], string[]] = [[], []];
  for (let i = 0; i < rounds; i++) {
    for (const [side, files] of [[first, runs[0]], [second, runs[1]]] as const) {
      const out = path.join(dir, `${side.name}${i}`);
      bench(out, side.args);
      files.push(path.join(out, 'results.json'));
    }
  }
  return runs;
}

/** `check` of `current` against `baseline`, with no GitHub step summary written. */
export function checkRun(baseline: readonly string[], current: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, 'check', '--baseline', ...baseline, '--current', ...current], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, GITHUB_STEP_SUMMARY: '' } });
}
