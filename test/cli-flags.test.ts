/**
 * Invalid values for every CLI flag (issue: reliability): one test per flag
 * of every command, each pinned to the same behaviour — exit 2, exactly one
 * line on stderr that names the flag, no stack trace. A value that slipped
 * through would start real work, so every base command is the smallest run
 * there is and every child is killed after 20 s.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { MAX_QUEUE_LIMIT, MAX_THREADS_LIMIT } from '../strategies/blocking/config.js';
import { testCell, testResults } from './helpers/fixtures.js';
import { CLI } from './helpers/serve.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-flags-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A path that can never be created, even by root: it lies under a regular file. */
const aFile = path.join(dir, 'a-file');
writeFileSync(aFile, 'x');
const UNWRITABLE = path.join(aFile, 'out');
/** Above Linux's largest pid_max (2^22), so never a live process. */
const NO_SUCH_PID = String(2 ** 22 + 1);

/** A results file `report` and `check` accept: one libuv/echo/1 cell. */
function resultsFile(): string {
  const results = testResults([testCell({ connections: 1, established: 1 })], { connections: [1] });
  const p = path.join(dir, 'results.json');
  writeFileSync(p, JSON.stringify(results));
  return p;
}
const RESULTS = resultsFile();

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function run(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stderr });
    });
  });
}

/** Exit 2, exactly one line on stderr matching `re`, no stack trace. */
async function refused(args: readonly string[], re: RegExp): Promise<void> {
  const r = await run(args);
  const shown = args.map((a) => (a === '' ? '""' : a)).join(' ');
  assert.equal(r.code, 2, `${shown}: expected exit 2, got ${r.code ?? r.signal}; stderr: ${r.stderr}`);
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  assert.equal(lines.length, 1, `${shown}: expected exactly one line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, `${shown}: no stack trace`);
  assert.match(r.stderr, re, `${shown}: the line names the problem`);
}

/** The smallest run of each command; a flag under test replaces its base value. */
const out = path.join(dir, 'out');
const BASE: Record<string, string[]> = {
  serve: ['serve', '--strategy', 'libuv', '--workload', 'echo'],
  bench: ['bench', '--strategies', 'libuv', '--workloads', 'echo', '--connections', '1', '--duration', '0.2', '--warmup', '0', '--out', out],
  target: ['bench', '--workloads', 'echo', '--connections', '1', '--duration', '0.2', '--warmup', '0', '--out', out],
  'bench-http': ['bench', '--strategies', 'libuv', '--workloads', 'http', '--connections', '1', '--duration', '0.2', '--warmup', '0', '--out', out],
  'target-http': ['bench', '--workloads', 'http', '--target', '127.0.0.1:9', '--connections', '1', '--duration', '0.2', '--warmup', '0', '--out', out],
  report: ['report', RESULTS, '--out', out],
  check: ['check', '--baseline', RESULTS, '--current', RESULTS],
  micro: ['micro', '--counts', '1', '--time', '1', '--out', out],
};

function withFlag(base: readonly string[], flag: string, value: string | null): string[] {
  const args = [...base];
  const at = args.indexOf(flag);
  // Every flag in a base carries a value.
  if (at >= 0) args.splice(at, 2);
  if (value === null) return args;
  return value.startsWith('=') ? [...args, `${flag}${value}`] : [...args, flag, value];
}

/**
 * Each row: command, flag, bad values (a value starting with "=" is glued
 * to the flag, null drops the flag), and what the line must say. A value
 * that starts with "-" and is not a number must be glued: yargs reads
 * `--tolerance -1%` as the short flags -1 and -%.
 */
type Row = [cmd: string, flag: string, values: (string | null)[], re: RegExp];

const ROWS: Row[] = [
  ['list', '--json', ['=maybe', '=yes'], /--json is a switch/],

  ['serve', '--strategy', ['nope', '', null], /unknown strategy|Missing required argument: strategy/],
  ['serve', '--workload', ['nope', null], /unknown workload|Missing required argument: workload/],
  ['serve', '--host', ['', '999.1.1.1', 'no-such-host.invalid'], /--host/],
  ['serve', '--port', ['-1', '70000', 'x', '', '1.5', '0x50'], /--port/],
  ['serve', '--message-size', ['0', 'x', String(64 * 2 ** 20 + 1)], /--message-size/],
  ['serve', '--http-close', ['=maybe', '=1'], /--http-close is a switch/],
  ['serve', '--work-us', ['-5', '1.5', '1000001'], /--work-us/],
  ['serve', '--extra-syscalls', ['-1', '1.5', '10001'], /--extra-syscalls/],
  ['serve', '--write-queue-cap', ['0', 'x', '-1'], /--write-queue-cap/],
  ['serve', '--sndbuf', ['x', '-1', '1.5', '', String(256 * 2 ** 20 + 1)], /--sndbuf/],
  ['serve', '--max-threads', ['0', 'x', String(MAX_THREADS_LIMIT + 1)], /--max-threads/],
  ['serve', '--max-queue', ['-1', 'x', String(MAX_QUEUE_LIMIT + 1)], /--max-queue/],
  ['serve', '--send-timeout', ['0', 'x', '3600001'], /--send-timeout/],
  ['serve', '--prestart', ['-1', 'x', '1.5', '', String(MAX_THREADS_LIMIT + 1)], /--prestart/],
  ['serve', '--protocol-json', ['{', '5', '[1]', '{"workUs":-1}', '{"messageSize":"big"}', '{"httpClose":"yes"}'], /--protocol-json/],

  ['bench', '--strategies', ['nope', '', ',', 'node-http'], /unknown strategy|--strategies is empty|serves none of --workloads/],
  ['bench', '--workloads', ['nope', '', ','], /unknown workload|--workloads is empty/],
  ['bench', '--connections', ['0', '-5', '1.5', 'ten', '10,,20', '20000', '0x10', ''], /--connections/],
  ['bench', '--duration', ['0', '-1', 'x', 'Infinity', '3601', ' '], /--duration/],
  ['bench', '--warmup', ['-1', 'x', '601', ''], /--warmup/],
  ['bench', '--repeat', ['0', '1.5', '1001'], /--repeat/],
  ['bench', '--rate', ['-1', '1.5', 'x', '100000001'], /--rate/],
  ['bench', '--timeout', ['0', 'x', '600001'], /--timeout/],
  ['bench', '--message-size', ['0', 'x'], /--message-size/],
  ['bench', '--http-close', ['=maybe'], /--http-close is a switch/],
  ['bench', '--work-us', ['-5', 'x'], /--work-us/],
  ['bench', '--extra-syscalls', ['-1', 'x'], /--extra-syscalls/],
  ['bench', '--charts', ['=maybe'], /--charts is a switch/],
  ['bench', '--pipelining', ['0', '1025', 'x'], /--pipelining/],
  ['bench', '--http-driver', ['wrk', ''], /--http-driver must be one of native, autocannon/],
  ['bench', '--chat-senders', ['x', '-1', '1001'], /--chat-senders/],
  ['bench', '--chat-connections', ['0', '1.5', '20000', 'a,b'], /--chat-connections/],
  ['bench', '--http-connections', ['0', '1.5', 'a,b', '10'], /--http-connections/],
  ['bench', '--idle', ['-1', '1.5', 'x', '10,,20', '', '0x10', '19990'], /--idle/],
  ['bench', '--idle-connections', ['0', 'x', '', '10'], /--idle-connections/],
  ['bench', '--idle-workloads', ['chat', 'nope', '', 'http'], /--idle-workloads/],
  ['bench', '--server-cpus', ['99', '1-0', 'a', '0,'], /--server-cpus/],
  ['bench', '--client-cpus', ['a-b', '99', ' '], /--client-cpus/],
  ['bench', '--host', ['10.1.2.3', '', 'example.com'], /--host .*not a loopback address/],
  ['bench', '--out', [UNWRITABLE, '', '/proc/iomodels-cannot-exist'], /--out/],
  ['bench', '--max-server-rss', ['lots', '0', '-5', '4X'], /--max-server-rss/],
  ['bench', '--max-threads', ['0'], /--max-threads/],
  ['bench', '--max-queue', ['-1'], /--max-queue/],
  ['bench', '--send-timeout', ['0'], /--send-timeout/],
  ['bench', '--target-pid', ['1'], /--target-pid goes with --target/],
  ['bench', '--allow-remote', ['', '=maybe'], /--allow-remote (goes with --target|is a switch)/],
  ['bench', '--micro', ['=maybe'], /--micro is a switch/],
  ['bench', '--protocol-json', ['{', '{"pipelining":0}'], /--protocol-json/],
  ['bench', '--tcp-driver', ['nope', '', 'NET'], /--tcp-driver must be one of/],
  ['bench', '--anatomy', ['nope', '', 'PERF'], /--anatomy must be one of auto, perf, proc, off/],
  ['bench', '--load-threads', ['0', 'x', '1.5', '', '257'], /--load-threads/],
  ['bench', '--profile', ['nope', '', 'QUICK', 'quick,ci'], /--profile must be one of quick, ci, full/],
  ['bench', '--dry-run', ['=maybe'], /--dry-run is a switch/],
  ['target', '--target', ['10.0.0.8:80', '127.0.0.1', '127.0.0.1:0', '', 'localhost:x', '[::1]'], /--target/],
  ['bench', '--method', ['GET'], /--method goes with the http workload, which --workloads echo leaves out/],
  ['bench-http', '--method', ['', 'GE T', 'CONNECT', 'G\u00c9T', 'A'.repeat(33)], /--method/],
  ['bench-http', '--path', ['', 'index.html', '/a b', '/caf\u00e9'], /--path/],
  ['bench-http', '--header', ['', 'nocolon', ': v', 'X A: b', 'Content-Length: 5', 'Transfer-Encoding: chunked', 'X-A: a\u0001b'], /--header/],
  ['bench-http', '--body', ['', path.join(dir, 'missing'), dir], /--body/],
  ['bench-http', '--expect-status', ['200'], /--expect-status goes with --target/],
  ['bench-http', '--expect-body', [aFile], /--expect-body goes with --target/],
  ['target-http', '--expect-status', ['', '1xx', '100', '600', '2x', '299-200', 'ok', '200,,204'], /--expect-status/],
  ['target-http', '--expect-body', ['', path.join(dir, 'missing'), dir], /--expect-body/],

  ['report', '--out', [UNWRITABLE, '', '/proc/iomodels-cannot-exist'], /--out/],

  ['check', '--baseline', ['', path.join(dir, 'missing.json'), null], /--baseline|missing\.json: no such file|Missing required argument: baseline/],
  ['check', '--current', ['', aFile, null], /--current|a-file: not valid JSON|Missing required argument: current/],
  ['check', '--tolerance', ['5', '100%', '', 'x', '=-1%'], /--tolerance/],
  ['check', '--alpha', ['0', '1', 'x', ''], /--alpha/],
  ['check', '--normalize-to', ['libuv/echo', 'a/b/0', '', 'nope/echo/1'], /--normalize-to/],
  ['check', '--png', ['', dir, path.join(UNWRITABLE, 'x.png')], /--png/],

  ['micro', '--counts', ['0', '', 'x', '15001'], /--counts/],
  ['micro', '--time', ['0', 'x', '60001'], /--time/],
  ['micro', '--out', [UNWRITABLE, '', '/proc/iomodels-cannot-exist'], /--out/],
];

describe('every CLI flag refuses bad values: exit 2, one line naming it, no stack', { concurrency: 4 }, () => {
  for (const [cmd, flag, values, re] of ROWS) {
    const base = BASE[cmd] ?? [cmd];
    test(`${base[0] ?? cmd} ${flag}`, async () => {
      for (const v of values) {
        // An empty value for a switch means "given at all" (--allow-remote alone).
        const args = v === '' && flag === '--allow-remote' ? [...base, flag] : withFlag(base, flag, v);
        await refused(args, re);
      }
    });
  }

  test('a flag given twice is refused by name, not joined into "a,b"', async () => {
    await refused([...BASE['serve'] ?? [], '--port', '1', '--port', '2'], /--port is given 2 times \(1, 2\)/);
    await refused([...BASE['bench'] ?? [], '--out', path.join(dir, 'o2')], /--out is given 2 times/);
    await refused([...BASE['check'] ?? [], '--tolerance', '5%', '--tolerance', '6%'], /--tolerance is given 2 times/);
  });

  test('an unknown flag or a stray argument is refused', async () => {
    await refused([...BASE['serve'] ?? [], '--nope', '1'], /Unknown argument: nope/);
    await refused(['list', 'extra'], /Unknown argument: extra/);
    await refused(['report'], /Not enough non-option arguments/);
  });

  test('http flags that cannot go together are refused', async () => {
    const http = BASE['bench-http'] ?? [];
    await refused([...http, '--http-driver', 'autocannon', '--method', 'HEAD'], /--http-driver autocannon cannot read HEAD responses/);
    await refused([...http, '--http-driver', 'autocannon', '--path', '*'], /--http-driver autocannon cannot send the request target \*/);
    await refused([...http, '--header', 'Connection: close', '--pipelining', '4'], /--pipelining 4 with --header Connection: close/);
    await refused([...http, '--header', 'Host: a', '--header', 'host: b'], /--header gives Host 2 times/);
  });

  test('a dead --target-pid is refused before any load', async () => {
    await refused([...BASE['target'] ?? [], '--target', '127.0.0.1:9', '--target-pid', NO_SUCH_PID], new RegExp(`--target-pid ${NO_SUCH_PID}: no such process`));
  });

  test('every flag in every --help has a row above', async () => {
    for (const cmd of ['list', 'serve', 'bench', 'report', 'check', 'micro']) {
      const help = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [CLI, cmd, '--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
        let text = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
        child.once('error', reject);
        child.once('close', () => resolve(text));
      });
      const flags = [...help.matchAll(/^ {2}(--[a-z][a-z-]*)/gm)].map((m) => m[1] ?? '').filter((f) => f !== '--help' && f !== '--version');
      assert.ok(flags.length > 0, `${cmd} --help lists its flags`);
      const covered = new Set(ROWS.filter(([c]) => (BASE[c]?.[0] ?? c) === cmd).map(([, f]) => f));
      const missing = flags.filter((f) => !covered.has(f));
      assert.deepEqual(missing, [], `${cmd}: every flag has a bad-value case`);
    }
  });

  test('switches take =true and =false', async () => {
    for (const v of ['true', 'false']) {
      const r = await run(['list', `--json=${v}`]);
      assert.equal(r.code, 0, `list --json=${v}: exit 0, got ${r.code}: ${r.stderr}`);
      assert.equal(r.stderr, '', `list --json=${v}: nothing on stderr`);
    }
  });
});
