/**
 * `iomodels compare`: run a base and a head until the gate can tell them
 * apart, or until the budget is spent. One round runs `bench --repeat 1` on
 * each side, in ABBA order (base, head; then head, base; …) so that drift on
 * a shared machine falls on both sides alike; after every round the same
 * statistics as `check` (reports/check.ts) decide every metric of every
 * cell. It stops when every gated metric is REGRESSION, OK or improved, when
 * every cell already has a REGRESSION (more rounds cannot turn the gate
 * green), or when another round would not fit the budget.
 *
 * A side is a checkout (its own built dist/, run from its own directory)
 * or this one, each with its own extra bench flags (the server cost knobs:
 * --work-us, --extra-syscalls), so a single tree can show what the gate sees.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/errors.js';
import { compareResults, poolResults, type CheckOutcome } from '../reports/check.js';
import { loadResults } from './results-file.js';

export type SideName = 'base' | 'head';

export interface CompareSide {
  /** A checkout with a built dist/ (undefined: this one). */
  dir?: string;
  /** Extra bench flags of this side. */
  args: readonly string[];
}

export interface CompareOptions {
  base: CompareSide;
  head: CompareSide;
  /** Bench flags both sides get (the selection: --strategies, --workloads, …). */
  benchArgs: readonly string[];
  /** Seconds; a round starts only if it is expected to end within it. At least one round always runs. */
  budgetSec: number;
  /** Rounds before stopping on resolution may be considered (3: the fewest a side that resolve a clear change). */
  minRounds: number;
  /** Stop after this many rounds whatever the verdicts. */
  maxRounds: number;
  out: string;
  tolerance: number;
  alpha: number;
  log: (line: string) => void;
}

/** One bench run of one side into `out`; resolves when it has exited (its results.json is then read). */
export type BenchRunner = (side: SideName, s: CompareSide, args: readonly string[], out: string) => Promise<{ code: number | null; stderr: string }>;

export interface CompareOutcome {
  rounds: number;
  stop: 'resolved' | 'settled' | 'budget' | 'max rounds';
  outcome: CheckOutcome;
  /** The final table with its header, as written to compare.md. */
  markdown: string;
  exitCode: 0 | 1;
}

const OWN_CLI = fileURLToPath(new URL('./cli.js', import.meta.url));

/** The CLI a side runs: its checkout's, or this one. */
export function sideCli(s: CompareSide): string {
  return s.dir === undefined ? OWN_CLI : path.join(s.dir, 'dist', 'harness', 'cli.js');
}

/** Whether a side's bench can skip its charts (--no-charts): this checkout can; an older one may not know the flag. */
export function skipsCharts(s: CompareSide): boolean {
  if (s.dir === undefined) return true;
  const r = spawnSync(process.execPath, [sideCli(s), 'bench', '--help'], { cwd: s.dir, encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 && /--charts\b/.test(r.stdout);
}

/** Refuse a checkout without a built CLI before any round runs. */
export function checkSide(flag: string, s: CompareSide): void {
  if (s.dir === undefined) return;
  if (!existsSync(s.dir)) throw new UsageError(`${flag} ${s.dir}: no such directory`);
  if (!existsSync(sideCli(s))) throw new UsageError(`${flag} ${s.dir}: no dist/harness/cli.js (build that checkout first: npm ci && npm run build)`);
}

/**
 * "--work-us 3 --extra-syscalls '1'" → argv words: whitespace splits,
 * single or double quotes group. Unbalanced quotes are refused by name.
 */
export function splitArgs(flag: string, s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let has = false;
  for (const ch of s) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur !== '') out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
      has = true;
    }
  }
  if (quote !== undefined) throw new UsageError(`${flag} has an unbalanced ${quote}: ${s}`);
  if (has || cur !== '') out.push(cur);
  return out;
}

/** Durations like 10m, 90s, 1h30m or a bare number of seconds. */
export function durationSec(flag: string, v: unknown): number {
  const s = String(v).trim();
  const m = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$/.exec(s);
  const sec = m === null || s === '' ? Number.NaN : Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  if (!Number.isFinite(sec) || sec <= 0) throw new UsageError(`${flag} must be a duration like 10m, 90s or 1h30m; got "${s}"`);
  return sec;
}

/** bench as a child process of the side's own CLI, from its own directory. */
export const spawnBench: BenchRunner = (_side, s, args, out) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sideCli(s), 'bench', ...args, '--out', out], {
      cwd: s.dir ?? process.cwd(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
  });

/** A side as the table's header names it: where it runs and its own flags (charts aside). */
function sideText(s: CompareSide): string {
  const args = s.args.filter((a) => a !== '--no-charts');
  return `${s.dir ?? 'this checkout'}${args.length > 0 ? ` with \`${args.join(' ')}\`` : ''}`;
}

function fmtSec(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}

function progress(round: number, o: CheckOutcome): string {
  const cells = o.comparisons.filter((c) => c.metrics.length > 0);
  const reg = cells.filter((c) => c.verdict === 'regression').map((c) => c.cell);
  return `round ${round}: ${reg.length > 0 ? `REGRESSION in ${reg.join(', ')}; ` : ''}${o.inconclusive} metric(s) INCONCLUSIVE in ${cells.filter((c) => c.metrics.some((m) => m.verdict === 'inconclusive')).length} of ${cells.length} cell(s)`;
}

/** Run rounds until resolved or out of budget; writes every round's results.json and compare.md into `out`. */
export async function runCompare(o: CompareOptions, bench: BenchRunner = spawnBench, now: () => number = () => performance.now()): Promise<CompareOutcome> {
  mkdirSync(o.out, { recursive: true });
  const started = now();
  const files: Record<SideName, string[]> = { base: [], head: [] };
  let outcome: CheckOutcome | undefined;
  let longest = 0;
  let rounds = 0;
  let stop: CompareOutcome['stop'] = 'max rounds';
  const check = { tolerance: o.tolerance, alpha: o.alpha };
  while (rounds < o.maxRounds) {
    const elapsed = (now() - started) / 1000;
    if (rounds > 0 && elapsed + longest > o.budgetSec) {
      stop = 'budget';
      break;
    }
    rounds++;
    const roundStart = now();
    // ABBA: the side that ran second runs first next round.
    const order: SideName[] = rounds % 2 === 1 ? ['base', 'head'] : ['head', 'base'];
    for (const side of order) {
      const dir = path.join(o.out, `round-${String(rounds).padStart(2, '0')}`, side);
      const s = o[side];
      const r = await bench(side, s, [...o.benchArgs, ...s.args, '--repeat', '1'], dir);
      const file = path.join(dir, 'results.json');
      if (!existsSync(file)) {
        const why = r.stderr.trim().split('\n').pop() ?? '';
        throw new UsageError(`round ${rounds}, ${side}: bench exited ${r.code ?? 'on a signal'} without ${file}${why === '' ? '' : `: ${why}`}`);
      }
      // A failed cell is in the file and shown by the table; bench's own exit code says no more.
      files[side].push(file);
    }
    longest = Math.max(longest, (now() - roundStart) / 1000);
    outcome = compareResults(
      { baseline: files.base, current: files.head, ...check },
      poolResults(files.base, files.base.map(loadResults)),
      poolResults(files.head, files.head.map(loadResults)),
    );
    o.log(`${progress(rounds, outcome)} (${fmtSec((now() - started) / 1000)} of ${fmtSec(o.budgetSec)})`);
    if (rounds >= o.minRounds && outcome.resolved) {
      stop = 'resolved';
      break;
    }
    if (rounds >= o.minRounds && outcome.settled) {
      stop = 'settled';
      break;
    }
  }
  if (outcome === undefined) throw new UsageError('--max-rounds must allow one round');
  const why = {
    resolved: 'every gated metric is resolved (REGRESSION, OK or improved)',
    settled: 'every compared cell has a REGRESSION: more rounds cannot turn the gate green',
    budget: `another round (about ${fmtSec(longest)}) would not fit the budget of ${fmtSec(o.budgetSec)}`,
    'max rounds': `--max-rounds ${o.maxRounds}`,
  }[stop];
  const head = [
    '## iomodels compare',
    '',
    `${rounds} round(s) of base and head, interleaved (ABBA), in ${fmtSec((now() - started) / 1000)}; stopped: ${why}.`,
    `Base: ${sideText(o.base)}; head: ${sideText(o.head)}. Every round's results.json is in ${o.out}.`,
    '',
  ].join('\n');
  const markdown = `${head}\n${outcome.markdown.replace(/^## iomodels check\n\n/, '')}`;
  writeFileSync(path.join(o.out, 'compare.md'), markdown + '\n');
  const summary = process.env['GITHUB_STEP_SUMMARY'];
  if (summary !== undefined && summary !== '') {
    try {
      appendFileSync(summary, markdown + '\n');
    } catch (err) {
      // The verdict on stdout and the exit code still stand; say what was not written.
      process.stderr.write(`iomodels: warning: cannot append to $GITHUB_STEP_SUMMARY ${summary}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    }
  }
  return { rounds, stop, outcome, markdown, exitCode: outcome.exitCode };
}
