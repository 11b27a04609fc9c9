/**
 * `iomodels check` as users run it: the CLI as a child process on results
 * files written to a temp dir. Exit codes are the contract: 0 no
 * regression, 1 regression, 2 unusable input (one line naming the file).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Cell, Results } from '../core/results.js';
import { testCell, testResults } from './helpers/fixtures.js';
import { CLI } from './helpers/serve.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Group {
  strategy?: string;
  connections?: number;
  /** Throughput of each repetition. */
  ops: number[];
  clientBound?: boolean;
  failed?: boolean;
  /** Idle connections of the cell; undefined writes no field (a file from before idle existed). */
  idle?: number;
  /** Server CPU µs per op of each repetition (default 100). */
  cpu?: number[];
  /** Every repetition capped with this reason (the server refused or kept waiting part of the load). */
  capped?: string;
}

function cell(g: Group, rep: number, ops: number): Cell {
  return testCell({
    strategy: g.strategy ?? 'libuv',
    connections: g.connections ?? 100,
    established: g.connections ?? 100,
    rep,
    status: g.failed === true ? 'failed' : g.capped !== undefined ? 'capped' : 'ok',
    ...(g.failed === true ? { reason: 'server exited (code 1)' } : g.capped !== undefined ? { reason: g.capped } : {}),
    clientBound: g.clientBound ?? false,
    ops: Math.round(ops),
    opsPerSec: g.failed === true ? 0 : ops,
    client: { cpuPercent: g.clientBound === true ? 97 : 60, driver: 'net' },
    server: { cpuSeconds: 0.1, cpuUsPerOp: g.cpu?.[rep] ?? 100, cpuPercent: 10, peakRssBytes: 5e7, peakThreads: 7, peakFds: 20, counters: {}, killed: false },
    ...(g.idle === undefined ? {} : { idle: g.idle }),
  });
}

function results(groups: Group[], protocol: Record<string, number> = { messageSize: 64 }): Results {
  const cells: Cell[] = [];
  const reps = Math.max(...groups.map((g) => g.ops.length));
  // Interleaved like bench: rep outermost.
  for (let rep = 0; rep < reps; rep++) {
    for (const g of groups) {
      const v = g.ops[rep];
      if (v !== undefined) cells.push(cell(g, rep, v));
    }
  }
  return testResults(cells, {
    strategies: [...new Set(groups.map((g) => g.strategy ?? 'libuv'))],
    connections: [100],
    warmupSec: 0.5,
    repeat: reps,
    serverCpus: '0',
    clientCpus: '1',
    protocol,
  });
}

let n = 0;
function file(content: Results | string): string {
  const p = path.join(dir, `r${n++}.json`);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

function check(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'check', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, GITHUB_STEP_SUMMARY: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2 with exactly one stderr line matching `re`. */
function assertUnusable(args: string[], re: RegExp): void {
  const r = check(args);
  assert.equal(r.code, 2, `${args.join(' ')}: expected exit 2, got ${r.code}; stdout ${r.stdout} stderr ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${r.stderr}`);
  assert.match(r.stderr, re);
}

/** Rows of the Markdown table by cell name. */
function row(stdout: string, cellName: string): string {
  const line = stdout.split('\n').find((l) => l.startsWith(`| ${cellName} |`));
  assert.ok(line !== undefined, `expected a table row for ${cellName} in:\n${stdout}`);
  return line;
}

const base5 = [10_000, 10_150, 9_900, 10_080, 9_950];
const low = (f: number): number[] => base5.map((v) => v * f);

describe('check verdicts', () => {
  it('identical samples exit 0 with an ok row', () => {
    const a = file(results([{ ops: base5 }]));
    const b = file(results([{ ops: base5 }]));
    const r = check(['--baseline', a, '--current', b]);
    assert.equal(r.code, 0, `identical files must pass; stdout:\n${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /ok/, 'verdict ok');
    assert.match(r.stdout, /No regression/, 'summary line');
  });

  it('a 25% slowdown with low noise exits 1 and names the cell', () => {
    const a = file(results([{ ops: base5 }, { strategy: 'other', ops: base5 }]));
    const b = file(results([{ ops: low(0.75) }, { strategy: 'other', ops: base5 }]));
    const r = check(['--baseline', a, '--current', b]);
    assert.equal(r.code, 1, `expected exit 1; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /REGRESSION/, 'slowed cell flagged');
    assert.match(row(r.stdout, 'libuv/echo/100'), /-25\.0%/, 'change shown');
    assert.doesNotMatch(row(r.stdout, 'other/echo/100'), /REGRESSION/, 'unchanged cell not flagged');
    assert.match(r.stdout, /1 regression\(s\).*libuv\/echo\/100/, 'summary names the cell');
  });

  it('more throughput is an improvement, never a regression', () => {
    const r = check(['--baseline', file(results([{ ops: base5 }])), '--current', file(results([{ ops: low(1.3) }]))]);
    assert.equal(r.code, 0, 'faster passes');
    assert.match(row(r.stdout, 'libuv/echo/100'), /improved/, 'verdict improved');
  });

  it('a slowdown inside the noise (±30%) is not flagged', () => {
    const noisy = [10_000, 13_000, 7_000, 12_000, 8_500];
    const noisyLow = [7_200, 10_400, 9_100, 6_800, 11_900];
    const r = check(['--baseline', file(results([{ ops: noisy }])), '--current', file(results([{ ops: noisyLow }]))]);
    assert.equal(r.code, 0, `not significant must pass; stdout:\n${r.stdout}`);
  });

  it('a significant slowdown below the tolerance is not flagged, and is with a smaller tolerance', () => {
    const a = file(results([{ ops: base5 }]));
    const b = file(results([{ ops: low(0.9) }]));
    assert.equal(check(['--baseline', a, '--current', b, '--tolerance', '15%']).code, 0, '10% slower within a 15% tolerance');
    assert.equal(check(['--baseline', a, '--current', b, '--tolerance', '0.05']).code, 1, '10% slower beyond a 5% tolerance');
  });

  it('one repetition per side is "insufficient repetitions", exit 0, and says --repeat 5', () => {
    const r = check(['--baseline', file(results([{ ops: [10_000] }])), '--current', file(results([{ ops: [5_000] }]))]);
    assert.equal(r.code, 0, 'no verdict is not a regression');
    assert.match(row(r.stdout, 'libuv/echo/100'), /insufficient repetitions/, 'verdict');
    assert.match(r.stdout, /--repeat 5/, 'tells how many repetitions are needed');
  });

  it('a client-bound baseline does not excuse a significant drop of the current run', () => {
    const r = check(['--baseline', file(results([{ ops: base5, clientBound: true }])), '--current', file(results([{ ops: low(0.7) }]))]);
    assert.equal(r.code, 1, `the baseline is a floor for the server, so the drop is real: ${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /REGRESSION/, 'verdict');
  });

  it('a client-bound current run is compared by server CPU per op: its throughput drop is the client\'s, not a regression', () => {
    const r = check(['--baseline', file(results([{ ops: base5 }])), '--current', file(results([{ ops: low(0.7), clientBound: true }]))]);
    assert.equal(r.code, 0, `same CPU per op: the server did not get slower; stdout:\n${r.stdout}`);
    const line = row(r.stdout, 'libuv/echo/100');
    assert.match(line, /✅ ok/, 'verdict ok');
    assert.match(line, /\| 100 \[100, 100\] µs\/op \(n=5\) \| 100 \[100, 100\] µs\/op \(n=5\) \|/, 'both sides shown in server CPU µs/op');
    assert.match(line, /\+0\.0% CPU\/op/, 'the change is the change of CPU per op');
    assert.match(r.stdout, /libuv\/echo\/100: .*current run client-bound: .*server CPU µs\/op is compared instead/, 'the note says what was compared and why');
  });

  it('a client-bound current run that spends significantly more server CPU per op is a regression', () => {
    const cpu5 = [100, 101, 99, 100.5, 99.5];
    const r = check([
      '--baseline',
      file(results([{ ops: base5, cpu: cpu5 }])),
      '--current',
      file(results([{ ops: base5, clientBound: true, cpu: cpu5.map((v) => v * 1.3) }])),
    ]);
    assert.equal(r.code, 1, `30% more CPU per op at the client's pace: the server got slower; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /\+30\.0% CPU\/op.*REGRESSION/, 'flagged on CPU per op');
    const better = check(['--baseline', file(results([{ ops: base5, cpu: cpu5 }])), '--current', file(results([{ ops: low(0.7), clientBound: true, cpu: cpu5.map((v) => v * 0.7) }]))]);
    assert.equal(better.code, 0, 'less CPU per op passes');
    assert.match(row(better.stdout, 'libuv/echo/100'), /improved/, 'less CPU per op is an improvement, whatever the client\'s throughput did');
    const within = check(['--baseline', file(results([{ ops: base5, cpu: cpu5 }])), '--current', file(results([{ ops: base5, clientBound: true, cpu: cpu5.map((v) => v * 1.03) }])), '--tolerance', '5%']);
    assert.equal(within.code, 0, `3% more CPU per op is inside a 5% tolerance; stdout:\n${within.stdout}`);
  });

  it('a client-bound current run keeps "insufficient repetitions" and, without a server CPU figure, is unreliable', () => {
    const one = check(['--baseline', file(results([{ ops: [10_000] }])), '--current', file(results([{ ops: [10_000], clientBound: true, cpu: [300] }]))]);
    assert.equal(one.code, 0, 'no verdict from one repetition');
    assert.match(row(one.stdout, 'libuv/echo/100'), /insufficient repetitions/, 'verdict');
    const blind = check(['--baseline', file(results([{ ops: base5 }])), '--current', file(results([{ ops: low(0.5), clientBound: true, cpu: [0, 0, 0, 0, 0] }]))]);
    assert.equal(blind.code, 0, 'nothing to compare is not a regression');
    assert.match(row(blind.stdout, 'libuv/echo/100'), /unreliable \(client-bound\)/, 'verdict');
    assert.match(blind.stdout, /no server CPU per op was measured in the current run/, 'the note says why');
  });

  it('normalized, a client-bound cell is divided by the reference cell\'s CPU per op of the same repetition', () => {
    const cpu5 = [100, 101, 99, 100.5, 99.5];
    const a = file(results([{ ops: base5, cpu: cpu5.map((v) => v / 2) }, { strategy: 'other', ops: base5, cpu: cpu5 }]));
    // A machine at half the speed: every server spends twice the CPU per op.
    const slow = file(results([{ ops: low(0.5), cpu: cpu5 }, { strategy: 'other', ops: low(0.6), clientBound: true, cpu: cpu5.map((v) => v * 2) }]));
    assert.equal(check(['--baseline', a, '--current', slow]).code, 1, 'raw: twice the CPU per op');
    const norm = check(['--baseline', a, '--current', slow, '--normalize-to', 'libuv/echo/100']);
    assert.equal(norm.code, 0, `normalized by the reference's CPU per op: no regression; stdout:\n${norm.stdout}`);
    assert.match(row(norm.stdout, 'other/echo/100'), /2\.000× .*CPU\/op/, 'other\'s CPU per op is twice the reference\'s on both sides');
    const worse = file(results([{ ops: low(0.5), cpu: cpu5 }, { strategy: 'other', ops: low(0.6), clientBound: true, cpu: cpu5.map((v) => v * 3) }]));
    const r = check(['--baseline', a, '--current', worse, '--normalize-to', 'libuv/echo/100']);
    assert.equal(r.code, 1, `other spends 1.5× more CPU per op relative to the reference; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'other/echo/100'), /REGRESSION/, 'names the cell');
  });

  it('a cell capped only in the baseline measured another load: shown, not gated, whatever its drop', () => {
    const a = file(results([{ ops: base5, capped: 'starved: waited > 1 s for a thread ×81' }]));
    const b = file(results([{ ops: low(0.4) }]));
    const r = check(['--baseline', a, '--current', b]);
    assert.equal(r.code, 0, `a drop against a capped baseline is not a regression; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /baseline capped/, 'verdict says why');
    assert.match(row(r.stdout, 'libuv/echo/100'), /-60\.0%/, 'the change is still shown');
    assert.match(r.stdout, /baseline was capped \(starved: waited > 1 s for a thread ×81\)/, 'the note quotes the cap');
  });

  it('a cell newly capped is a regression even when its throughput rose', () => {
    const a = file(results([{ ops: base5 }]));
    const b = file(results([{ ops: low(1.3), capped: 'refused: FD_SETSIZE ×3' }]));
    const r = check(['--baseline', a, '--current', b]);
    assert.equal(r.code, 1, `newly capped must fail the gate; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /REGRESSION/);
    assert.match(r.stdout, /newly capped: refused: FD_SETSIZE ×3/, 'the note names the cap');
  });

  it('a cell capped in both runs is compared as measured', () => {
    const cap = 'refused: FD_SETSIZE ×3';
    const slower = check(['--baseline', file(results([{ ops: base5, capped: cap }])), '--current', file(results([{ ops: low(0.75), capped: cap }]))]);
    assert.equal(slower.code, 1, `a significant drop of a cell capped on both sides is a regression; stdout:\n${slower.stdout}`);
    const same = check(['--baseline', file(results([{ ops: base5, capped: cap }])), '--current', file(results([{ ops: base5, capped: cap }]))]);
    assert.equal(same.code, 0, 'the same capped numbers pass');
    assert.match(same.stdout, /capped in both runs/, 'and say so');
  });

  it('a failed cell is reported as failed, not as a throughput verdict', () => {
    const r = check(['--baseline', file(results([{ ops: base5 }])), '--current', file(results([{ ops: base5, failed: true }]))]);
    assert.equal(r.code, 0, 'failure is not a throughput regression');
    assert.match(row(r.stdout, 'libuv/echo/100'), /failed/, 'verdict failed');
    assert.match(r.stdout, /server exited \(code 1\)/, 'the reason is shown');
  });

  it('--normalize-to cancels a uniformly slower machine but still catches a real slowdown', () => {
    const a = file(results([{ ops: base5 }, { strategy: 'other', ops: low(0.5) }]));
    const slowMachine = file(results([{ ops: low(0.6) }, { strategy: 'other', ops: low(0.3) }]));
    assert.equal(check(['--baseline', a, '--current', slowMachine]).code, 1, 'raw: everything looks 40% slower');
    const norm = check(['--baseline', a, '--current', slowMachine, '--normalize-to', 'libuv/echo/100']);
    assert.equal(norm.code, 0, `normalized: no regression; stdout:\n${norm.stdout}`);
    assert.match(row(norm.stdout, 'libuv/echo/100'), /reference/, 'the reference row says so');
    const realDrop = file(results([{ ops: low(0.6) }, { strategy: 'other', ops: low(0.2) }]));
    const r = check(['--baseline', a, '--current', realDrop, '--normalize-to', 'libuv/echo/100']);
    assert.equal(r.code, 1, 'other dropped a third relative to the reference');
    assert.match(row(r.stdout, 'other/echo/100'), /REGRESSION/, 'names the cell');
  });

  it('appends the table to $GITHUB_STEP_SUMMARY', () => {
    const summary = path.join(dir, 'summary.md');
    writeFileSync(summary, '# earlier step\n');
    const r = check(['--baseline', file(results([{ ops: base5 }])), '--current', file(results([{ ops: base5 }]))], { GITHUB_STEP_SUMMARY: summary });
    assert.equal(r.code, 0);
    const text = readFileSync(summary, 'utf8');
    assert.ok(text.startsWith('# earlier step\n'), 'appended, not overwritten');
    assert.match(text, /\| libuv\/echo\/100 \|/, 'the table is in the summary');
  });

  it('--png writes a 1200×700 PNG', () => {
    const png = path.join(dir, 'check.png');
    const r = check(['--baseline', file(results([{ ops: base5 }, { strategy: 'other', ops: base5 }])), '--current', file(results([{ ops: low(0.75) }, { strategy: 'other', ops: base5 }])), '--png', png]);
    assert.equal(r.code, 1, `regression still decides the exit code; stderr ${r.stderr}`);
    const bytes = readFileSync(png);
    assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], 'PNG signature');
    assert.equal(bytes.readUInt32BE(16), 1200, 'width');
    assert.equal(bytes.readUInt32BE(20), 700, 'height');
  });
});

describe('check keys cells by (strategy, workload, connections, idle)', () => {
  it('idle 0 keeps the old key, so an old baseline without idle fields still matches; idle > 0 gets its own key', () => {
    const old = file(results([{ ops: base5 }]));
    const withIdle = file(results([{ ops: base5, idle: 0 }, { ops: low(0.5), idle: 1000 }]));
    const r = check(['--baseline', old, '--current', withIdle]);
    assert.equal(r.code, 0, `idle=0 matches the old cell and is unchanged; the idle cell has no baseline; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100'), /✅ ok/, 'the old key compares idle 0 with the old file');
    assert.match(row(r.stdout, 'libuv/echo/100/idle=1000'), /only in current/, 'the idle cell is a cell of its own, never pooled with idle 0');
  });

  it('cells that differ only in idle are compared with their own kind', () => {
    const a = file(results([{ ops: base5, idle: 0 }, { ops: base5, idle: 10_000 }]));
    const b = file(results([{ ops: base5, idle: 0 }, { ops: low(0.75), idle: 10_000 }]));
    const r = check(['--baseline', a, '--current', b]);
    assert.equal(r.code, 1, `the idle cell slowed down; stdout:\n${r.stdout}`);
    assert.match(row(r.stdout, 'libuv/echo/100/idle=10000'), /REGRESSION/, 'the idle cell is flagged');
    assert.doesNotMatch(row(r.stdout, 'libuv/echo/100'), /REGRESSION/, 'idle 0 is not');
  });

  it('--normalize-to takes both key forms', () => {
    const a = file(results([{ ops: base5, idle: 1000 }, { strategy: 'other', ops: base5 }]));
    const slowMachine = file(results([{ ops: low(0.6), idle: 1000 }, { strategy: 'other', ops: low(0.6) }]));
    const r = check(['--baseline', a, '--current', slowMachine, '--normalize-to', 'libuv/echo/100/idle=1000']);
    assert.equal(r.code, 0, `normalized by the idle cell: no regression; stdout:\n${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(row(r.stdout, 'libuv/echo/100/idle=1000'), /reference/, 'the idle reference row says so');
    assert.match(r.stdout, /divided by libuv\/echo\/100\/idle=1000 of the same run/, 'the header names the reference with its idle count');
    const plain = check(['--baseline', a, '--current', slowMachine, '--normalize-to', 'other/echo/100/idle=0']);
    assert.equal(plain.code, 0, `idle=0 names the plain cell; stderr: ${plain.stderr}`);
    assert.match(row(plain.stdout, 'other/echo/100'), /reference/, 'idle=0 is the three-part key');
  });
});

describe('check pools several files per side (interleaved A/B runs)', () => {
  it('five single-repetition runs per side give a verdict', () => {
    const a = base5.map((v) => file(results([{ ops: [v] }])));
    const same = base5.map((v) => file(results([{ ops: [v * 1.01] }])));
    const slow = base5.map((v) => file(results([{ ops: [v * 0.75] }])));
    const ok = check(['--baseline', ...a, '--current', ...same]);
    assert.equal(ok.code, 0, `pooled A/A passes; stdout:\n${ok.stdout}`);
    assert.match(row(ok.stdout, 'libuv/echo/100'), /\(n=5\)/, 'five pooled repetitions per side');
    const bad = check(['--baseline', ...a, '--current', ...slow]);
    assert.equal(bad.code, 1, 'pooled 25% slowdown fails');
    assert.match(row(bad.stdout, 'libuv/echo/100'), /REGRESSION/, 'names the cell');
  });
  it('a pooled file that measured something else is refused by name', () => {
    const a = file(results([{ ops: [10_000] }]));
    const odd = file(results([{ ops: [10_000] }], { messageSize: 512 }));
    assertUnusable(['--baseline', a, odd, '--current', a], new RegExp(`${path.basename(odd)}: plan.protocol/rate differ`));
  });
});

describe('check refuses unusable input (exit 2, one line naming the file)', () => {
  const good = file(results([{ ops: base5 }]));
  it('corrupt, empty, missing or foreign baseline', () => {
    const corrupt = file('{"schemaVersion": 1, "cells": [');
    assertUnusable(['--baseline', corrupt, '--current', good], new RegExp(`${corrupt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`));
    const empty = file('');
    assertUnusable(['--baseline', empty, '--current', good], new RegExp(`${path.basename(empty)}: empty file`));
    assertUnusable(['--baseline', path.join(dir, 'nope.json'), '--current', good], /nope\.json: no such file/);
    assertUnusable(['--baseline', file('{"hello": 1}'), '--current', good], /schemaVersion undefined is not 1/);
    assertUnusable(['--baseline', good, '--current', file('[]')], /not a results object/);
  });
  it('a results file without cells', () => {
    const none = file(results([{ ops: [] }]));
    assertUnusable(['--baseline', none, '--current', good], new RegExp(`${path.basename(none)}: no cells`));
  });
  it('a cell with a wrong field', () => {
    const bad = results([{ ops: base5 }]);
    (bad.cells[0] as unknown as Record<string, unknown>)['status'] = 'great';
    assertUnusable(['--baseline', good, '--current', file(bad)], /cells\[0\]\.status/);
  });
  it('mismatched files: other message size, no cell in common', () => {
    const big = file(results([{ ops: base5 }], { messageSize: 4096 }));
    assertUnusable(['--baseline', good, '--current', big], new RegExp(`${path.basename(big)}: workload options plan.protocol .*4096.* differ`));
    const other = file(results([{ strategy: 'other', ops: base5 }]));
    assertUnusable(['--baseline', good, '--current', other], new RegExp(`${path.basename(other)}: no cell in common`));
  });
  it('a missing normalization reference', () => {
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'epoll/echo/100'], /reference cell epoll\/echo\/100 is unusable \(no such cell\)/);
  });
  it('bad flag values name the flag', () => {
    assertUnusable(['--baseline', good, '--current', good, '--tolerance', '5'], /--tolerance must be a percentage like 5%/);
    assertUnusable(['--baseline', good, '--current', good, '--tolerance', 'abc'], /--tolerance/);
    assertUnusable(['--baseline', good, '--current', good, '--tolerance', '150%'], /--tolerance/);
    assertUnusable(['--baseline', good, '--current', good, '--alpha', '0'], /--alpha must be a number between 0 and 1/);
    assertUnusable(['--baseline', good, '--current', good, '--alpha', '1.5'], /--alpha/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo'], /--normalize-to must be STRATEGY\/WORKLOAD\/CONNECTIONS/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo/x'], /--normalize-to connections must be a positive integer/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo/100/1000'], /--normalize-to must be STRATEGY\/WORKLOAD\/CONNECTIONS\[\/idle=N\]/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo/100/idle=many'], /--normalize-to idle must be a whole number >= 0/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo/100/idle=5/x'], /--normalize-to must be STRATEGY/);
    assertUnusable(['--baseline', good, '--current', good, '--normalize-to', 'libuv/echo/100/idle=1000'], /reference cell libuv\/echo\/100\/idle=1000 is unusable \(no such cell\)/);
    assertUnusable(['--current', good], /baseline/);
  });
});
