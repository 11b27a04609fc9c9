/**
 * `--help` that teaches: every command's help ends with examples, and each
 * example runs as written. They are read back from the help text itself
 * (not from harness/examples.ts), so what a person sees is what is run:
 * list, report, check and micro for real (micro with --time shortened),
 * serve until it listens (on a free port rather than 8080, which may be
 * taken), bench with --dry-run (every check, no load). Files an example
 * names (results.json, base.json, head.json) are made in a scratch working
 * directory from the test fixtures. Also: --profile's values, and that a
 * typed flag overrides them.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Plan } from '../core/results.js';
import { testCell, testResults } from './helpers/fixtures.js';
import { CLI } from './helpers/serve.js';

const COMMANDS = ['list', 'serve', 'bench', 'report', 'check', 'micro'];
const cwd = mkdtempSync(path.join(os.tmpdir(), 'iomodels-examples-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

// The files the examples name: a results file with five repetitions, so check can decide.
const fixture = testResults(
  [0, 1, 2, 3, 4].map((rep) => testCell({ rep, opsPerSec: 1000 + rep, ops: 1000 + rep })),
  { repeat: 5 },
);
for (const f of ['results.json', 'base.json', 'head.json']) writeFileSync(path.join(cwd, f), JSON.stringify(fixture));

function run(args: readonly string[], timeout = 60_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The examples at the end of a command's --help, each split into its arguments (after the program name). */
function examples(cmd: string): string[][] {
  const help = run([cmd, '--help']);
  assert.equal(help.code, 0, `${cmd} --help exits 0`);
  const text = help.stdout.trimEnd();
  const at = text.lastIndexOf('\nExamples:\n');
  assert.ok(at >= 0, `${cmd} --help has an Examples section`);
  const lines = text.slice(at + '\nExamples:\n'.length).split('\n');
  // An example's line starts with the program's name; deeper-indented lines continue its description.
  const cmds = lines.filter((l) => l.startsWith('  iomodels ')).map((l) => (l.trim().split(/\s{2,}/)[0] ?? '').split(' ').slice(1));
  assert.ok(cmds.length >= 2, `${cmd} --help has at least two examples, got ${cmds.length}`);
  for (const l of lines) assert.match(l, /^ {2}iomodels |^ {10,}\S/, `${cmd} --help ends with its examples, one line each; stray line: "${l}"`);
  for (const c of cmds) assert.equal(c[0], cmd, `an example of ${cmd} runs ${cmd}: ${c.join(' ')}`);
  return cmds;
}

/** Replace the value of `flag`, or append it. */
function withValue(args: readonly string[], flag: string, value: string): string[] {
  const out = [...args];
  const at = out.indexOf(flag);
  if (at >= 0) out.splice(at, 2);
  return [...out, flag, value];
}

function serveUntilListening(args: readonly string[]): Promise<{ code: number | null; listened: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let listened = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (!listened && /^listening on \S+:\d+$/m.test(out)) {
        listened = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, listened, stderr: err });
    });
  });
}

describe('every --help ends with examples that run as written', { concurrency: 1 }, () => {
  test('list', () => {
    for (const ex of examples('list')) {
      const r = run(ex);
      assert.equal(r.code, 0, `${ex.join(' ')}: exit 0; stderr: ${r.stderr}`);
      assert.match(r.stdout, /libuv/, `${ex.join(' ')} lists libuv`);
    }
  });

  test('serve (on a free port)', async () => {
    for (const ex of examples('serve')) {
      const args = ex.includes('--port') ? withValue(ex, '--port', '0') : ex;
      const r = await serveUntilListening(args);
      assert.ok(r.listened, `${ex.join(' ')}: listens; stderr: ${r.stderr}`);
      assert.equal(r.code, 0, `${ex.join(' ')}: exit 0 on SIGTERM`);
    }
  });

  test('bench (--dry-run: every check, the plan, no load)', () => {
    for (const ex of examples('bench')) {
      const r = run([...ex, '--dry-run']);
      assert.equal(r.code, 0, `${ex.join(' ')} --dry-run: exit 0; stderr: ${r.stderr}`);
      assert.match(r.stdout, /^cells: +[1-9]\d* /m, `${ex.join(' ')}: plans some cells:\n${r.stdout}`);
    }
  });

  test('report', () => {
    for (const ex of examples('report')) {
      const r = run(ex);
      assert.equal(r.code, 0, `${ex.join(' ')}: exit 0; stderr: ${r.stderr}`);
      const html = /^html: +(\S+)$/m.exec(r.stdout)?.[1];
      assert.ok(html !== undefined && existsSync(path.resolve(cwd, html)), `${ex.join(' ')}: prints the path of report.html, which exists:\n${r.stdout}`);
    }
  });

  test('check', () => {
    for (const ex of examples('check')) {
      const r = run(ex);
      assert.equal(r.code, 0, `${ex.join(' ')}: identical runs pass the gate; stderr: ${r.stderr}`);
      assert.match(r.stdout, /libuv\/echo\/10/, `${ex.join(' ')}: names the cell`);
    }
  });

  test('micro (--time shortened)', () => {
    for (const ex of examples('micro')) {
      const r = run(withValue(ex, '--time', '2'), 120_000);
      assert.equal(r.code, 0, `${ex.join(' ')}: exit 0; stderr: ${r.stderr}`);
      assert.match(r.stdout, /^micro: +\S+micro\.json$/m, `${ex.join(' ')}: writes micro.json`);
    }
  });

  test('every command has examples', () => {
    assert.deepEqual(COMMANDS.filter((c) => !run([c, '--help']).stdout.includes('\nExamples:\n')), [], 'expected Examples in every command\'s help');
  });
});

describe('bench --profile', () => {
  function plan(args: readonly string[]): Plan {
    const r = run(['bench', ...args, '--dry-run']);
    assert.equal(r.code, 0, `bench ${args.join(' ')} --dry-run: exit 0; stderr: ${r.stderr}`);
    const json = /^plan: +(\{.*\})$/m.exec(r.stdout)?.[1];
    assert.ok(json !== undefined, `expected the plan printed:\n${r.stdout}`);
    return JSON.parse(json) as Plan;
  }

  test('quick is what npm run bench ran, with the idle sweep; ci is bench:ci; full repeats five times', () => {
    const quick = plan(['--profile', 'quick']);
    assert.equal(quick.profile, 'quick', 'expected the profile recorded in the plan');
    assert.deepEqual([quick.durationSec, quick.warmupSec, quick.repeat], [1, 0.25, 1]);
    assert.deepEqual(quick.connectionsByWorkload, { chat: [10, 100], http: [10, 100] });
    assert.deepEqual([quick.idle, quick.idleConnections, quick.idleWorkloads], [[0, 1000, 10_000], [10], ['echo']]);
    const ci = plan(['--profile', 'ci']);
    assert.deepEqual([ci.workloads, ci.connections, ci.durationSec, ci.warmupSec, ci.repeat], [['echo'], [100], 1, 0.25, 5]);
    const full = plan(['--profile', 'full']);
    assert.deepEqual([full.durationSec, full.warmupSec, full.repeat, full.idle], [3, 1, 5, [0, 1000, 10_000]]);
  });

  test('a typed flag overrides the profile, whatever its spelling; values that no longer fit are dropped', () => {
    const p = plan(['--profile', 'ci', '--repeat', '2', '--duration=0.5', '--workloads', 'http']);
    assert.deepEqual([p.repeat, p.durationSec, p.workloads, p.connections], [2, 0.5, ['http'], [100]], 'expected the typed values, and the profile\'s for the rest');
    const q = plan(['--profile', 'quick', '--workloads', 'http']);
    assert.deepEqual([q.idle, q.idleWorkloads, q.connectionsByWorkload], [[0], undefined, { http: [10, 100] }], 'expected quick\'s echo idle sweep and chat counts dropped for http alone, its http counts kept');
    const r = plan(['--profile', 'quick', '--no-micro', '--idle', '0']);
    assert.deepEqual(r.idle, [0], 'expected the typed --idle 0 to win');
    const none = plan(['--workloads', 'echo']);
    assert.equal(none.profile, undefined, 'expected no profile recorded without --profile');
  });
});
