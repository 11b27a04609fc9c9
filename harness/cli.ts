#!/usr/bin/env node
/**
 * The iomodels CLI (yargs). Every user error is one line on stderr and exit 2.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { STRATEGIES } from '../strategies/registry.js';
import { DEFAULT_MAX_QUEUE, DEFAULT_MAX_THREADS, DEFAULT_SEND_TIMEOUT_MS, MAX_QUEUE_LIMIT, MAX_THREADS_LIMIT } from '../strategies/blocking/config.js';
import { autocannonCan, HTTP_DRIVERS } from './load/drivers.js';
import { WORKLOADS } from '../workloads/protocols.js';
import { writeMicro, writeReport } from '../reports/write.js';
import { DEFAULT_MICRO_COUNTS, runMicro } from './micro.js';
import { checkBindHost, checkFdLimit, checkOutDir, checkOutFile, checkPid } from './preflight.js';
import { planCells, preflightBench, runBench } from './bench.js';
import { examplesOf } from './examples.js';
import { applyProfile, fitProfile, PROFILE_NAMES, profileOption, typedFlags, type ProfileName } from './profiles.js';
import { UsageError } from '../core/errors.js';
import { runCheck } from './check.js';
import { checkSide, durationSec, runCompare, skipsCharts, splitArgs, type CompareSide } from './compare.js';
import {
  byteSize,
  cellRef,
  countList,
  httpHeaders,
  httpMethod,
  httpPath,
  inputFile,
  intList,
  isLoopback,
  nonNegativeInt,
  nonNegativeNumber,
  portNumber,
  positiveInt,
  positiveNumber,
  probability,
  statusSet,
  strategyList,
  tcpDriverOption,
  anatomyOption,
  tolerance,
  workloadList,
} from './options.js';
import { DEFAULT_STATUSES } from '../workloads/http/status-set.js';
import { parseHeader, requestCloses } from '../workloads/http/request.js';
import type { Plan } from '../core/results.js';
import { loadResults } from './results-file.js';
import { runServe } from './serve.js';
import { cpuCount, parseTarget } from './runner.js';
import { toolVersion } from './version.js';

function fail(message: string): never {
  process.stderr.write(`iomodels: ${message}\n`);
  process.exit(2);
}

function defaultCpus(): { server: string; client: string } {
  const n = os.cpus().length;
  if (n < 2) return { server: '', client: '' };
  return { server: '0', client: n === 2 ? '1' : `1-${n - 1}` };
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** The workload options a user can set by flag: flag name and validator. */
const PROTOCOL_FLAGS: Record<string, { flag: string; parse: (flag: string, v: unknown) => number }> = {
  messageSize: { flag: '--message-size', parse: (f, v) => positiveInt(f, v, 64 * 1024 * 1024) },
  // http: CPU burned per request, pipelining depth.
  workUs: { flag: '--work-us', parse: (f, v) => nonNegativeInt(f, v, 1_000_000) },
  // http: syscalls that change nothing (getpid) per request: a syscall regression on demand.
  extraSyscalls: { flag: '--extra-syscalls', parse: (f, v) => nonNegativeInt(f, v, 10_000) },
  pipelining: { flag: '--pipelining', parse: (f, v) => positiveInt(f, v, 1024) },
  // chat: how many clients send (0: all of them).
  chatSenders: { flag: '--chat-senders', parse: (f, v) => nonNegativeInt(f, v, 1000) },
};

/**
 * Workload options shared by serve and bench. --protocol-json (hidden) is how
 * the runner hands a cell's options to `serve`; its values go through the
 * same checks as the flags, and a flag wins over it.
 */
function protocolOptions(argv: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const json = argv['protocolJson'];
  if (typeof json === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new UsageError('--protocol-json is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('--protocol-json must be a JSON object of workload options');
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new UsageError(`--protocol-json ${k} must be a string, number or boolean`);
      const known = PROTOCOL_FLAGS[k];
      if (known !== undefined) out[k] = known.parse(`--protocol-json ${k}`, v);
      else if (k === 'httpClose' && typeof v !== 'boolean') throw new UsageError('--protocol-json httpClose must be true or false');
      else out[k] = v;
    }
  }
  for (const [k, { flag, parse }] of Object.entries(PROTOCOL_FLAGS)) {
    if (argv[k] !== undefined) out[k] = parse(flag, argv[k]);
  }
  // http: the seed's "用完就断".
  if (argv['httpClose'] === true) out['httpClose'] = true;
  return out;
}

/** The blocking strategy's pool flags (serve and bench), validated. */
function poolOptions(argv: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  if (argv['maxThreads'] !== undefined) out['maxThreads'] = positiveInt('--max-threads', argv['maxThreads'], MAX_THREADS_LIMIT);
  if (argv['maxQueue'] !== undefined) out['maxQueue'] = nonNegativeInt('--max-queue', argv['maxQueue'], MAX_QUEUE_LIMIT);
  if (argv['sendTimeout'] !== undefined) out['sendTimeoutMs'] = positiveInt('--send-timeout', argv['sendTimeout'], 3_600_000);
  return out;
}

/** Pool flags as `serve` arguments, for the blocking strategy's cells. */
function poolServeArgs(extra: Record<string, number>): string[] {
  const args: string[] = [];
  if (extra['maxThreads'] !== undefined) args.push('--max-threads', String(extra['maxThreads']));
  if (extra['maxQueue'] !== undefined) args.push('--max-queue', String(extra['maxQueue']));
  if (extra['sendTimeoutMs'] !== undefined) args.push('--send-timeout', String(extra['sendTimeoutMs']));
  return args;
}

/**
 * `--idle`, `--idle-connections`, `--idle-workloads` as plan fields. A
 * non-zero idle count that no chosen workload can hold is an error, not a
 * sweep that silently runs without it.
 */
function idleSweep(argv: Record<string, unknown>, workloads: readonly string[]): Pick<Plan, 'idle' | 'idleConnections' | 'idleWorkloads'> {
  const idle = countList('--idle', argv['idle'] ?? '0');
  const out: Pick<Plan, 'idle' | 'idleConnections' | 'idleWorkloads'> = { idle };
  const holders = workloads.filter((w) => WORKLOADS.find((x) => x.name === w)?.idle !== undefined);
  if (argv['idleWorkloads'] !== undefined) {
    const named = workloadList('--idle-workloads', argv['idleWorkloads']);
    for (const w of named) {
      if (!workloads.includes(w)) throw new UsageError(`--idle-workloads ${w} is not in --workloads ${workloads.join(',')}`);
      if (!holders.includes(w)) throw new UsageError(`--idle-workloads ${w}: this workload has no idle connections (those that do: ${WORKLOADS.filter((x) => x.idle !== undefined).map((x) => x.name).join(', ')})`);
    }
    out.idleWorkloads = named;
  }
  if (argv['idleConnections'] !== undefined) out.idleConnections = intList('--idle-connections', argv['idleConnections']);
  if (idle.some((n) => n > 0) && holders.length === 0) {
    throw new UsageError(`--idle ${idle.join(',')}: none of --workloads ${workloads.join(',')} has idle connections (echo and http do; a chat client gets every broadcast)`);
  }
  if (idle.every((n) => n === 0) && (out.idleWorkloads !== undefined || out.idleConnections !== undefined)) {
    throw new UsageError('--idle-connections and --idle-workloads go with a non-zero --idle');
  }
  return out;
}

/**
 * `--chat-connections`, `--http-connections`: one workload's counts in place
 * of --connections. Given for a workload --workloads leaves out, an error.
 */
function perWorkloadConnections(given: Record<string, string | undefined>, workloads: readonly string[]): Record<string, number[]> | undefined {
  const out: Record<string, number[]> = {};
  for (const [w, v] of Object.entries(given)) {
    if (v === undefined) continue;
    if (!workloads.includes(w)) throw new UsageError(`--${w}-connections goes with ${w}, which --workloads ${workloads.join(',')} leaves out`);
    out[w] = intList(`--${w}-connections`, v);
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Flags that may be given more than once (check pools several files; a request has several headers). */
const REPEATABLE = new Set(['baseline', 'current', 'header']);

/** The http flags of bench, by argv key. */
const HTTP_FLAGS = { method: '--method', path: '--path', header: '--header', body: '--body', expectStatus: '--expect-status', expectBody: '--expect-body' } as const;

/**
 * The http request and reply flags as plan fields. The request flags
 * (--method, --path, --header, --body) shape every http cell's request,
 * ours and a --target's alike. --expect-status and --expect-body go with
 * --target only: the servers iomodels starts are checked against the
 * seed's page byte for byte, so there is nothing else to expect of them.
 * A --target's http cells always record their status set (default 2xx).
 */
function httpPlan(
  argv: Record<string, unknown>,
  workloads: readonly string[],
  target: boolean,
  httpDriver: string,
): Pick<Plan, 'httpRequest' | 'expectStatus' | 'expectBody'> {
  const given = (Object.keys(HTTP_FLAGS) as (keyof typeof HTTP_FLAGS)[]).filter((k) => argv[k] !== undefined);
  const first = given[0];
  if (first !== undefined && !workloads.includes('http')) throw new UsageError(`${HTTP_FLAGS[first]} goes with the http workload, which --workloads ${workloads.join(',')} leaves out`);
  for (const k of ['expectStatus', 'expectBody'] as const) {
    if (argv[k] !== undefined && !target) throw new UsageError(`${HTTP_FLAGS[k]} goes with --target: the servers iomodels starts are checked against the seed's page byte for byte`);
  }
  const out: Pick<Plan, 'httpRequest' | 'expectStatus' | 'expectBody'> = {};
  if (!workloads.includes('http')) return out;
  const method = argv['method'] === undefined ? 'GET' : httpMethod('--method', argv['method']);
  const reqPath = argv['path'] === undefined ? '/' : httpPath('--path', argv['path']);
  const headers = argv['header'] === undefined ? [] : httpHeaders('--header', argv['header']);
  const body = argv['body'] === undefined ? undefined : inputFile('--body', argv['body']).ref;
  if (argv['method'] !== undefined || argv['path'] !== undefined || argv['header'] !== undefined || body !== undefined) {
    out.httpRequest = { method, path: reqPath, headers, ...(body === undefined ? {} : { body }) };
  }
  if (target) out.expectStatus = argv['expectStatus'] === undefined ? DEFAULT_STATUSES : statusSet('--expect-status', argv['expectStatus']);
  if (argv['expectBody'] !== undefined) out.expectBody = inputFile('--expect-body', argv['expectBody']).ref;
  if (httpDriver === 'autocannon' && !autocannonCan(method, reqPath)) {
    throw new UsageError(`--http-driver autocannon cannot ${method.toUpperCase() === 'HEAD' ? 'read HEAD responses' : `send the request target ${reqPath}`}: use --http-driver native`);
  }
  const pairs = headers.map((h) => parseHeader(h)).filter((p): p is readonly [string, string] => !('error' in p));
  const depth = argv['pipelining'] === undefined ? 1 : positiveInt('--pipelining', argv['pipelining'], 1024);
  if (requestCloses({ method, path: reqPath, headers: pairs }) && depth > 1) {
    throw new UsageError(`--pipelining ${depth} with --header Connection: close: the server answers one request per connection`);
  }
  return out;
}

/**
 * What yargs lets through quietly: `--http-close=maybe` becomes false (a
 * switch parses only true/false), and a repeated flag becomes an array that
 * the validators would print as "a,b". Both are refused here, by name.
 */
function strictFlags(argv: Record<string, unknown>, raw: readonly string[]): void {
  for (const a of raw) {
    if (a === '--') break;
    const m = /^--(?:no-)?([^=]+)=(.*)$/s.exec(a);
    if (m === null) continue;
    const [, name = '', value = ''] = m;
    const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (typeof argv[key] === 'boolean' && value !== 'true' && value !== 'false') {
      throw new UsageError(`--${name} is a switch: give it no value (or =true, =false), got "${value}"`);
    }
  }
  for (const [k, v] of Object.entries(argv)) {
    // yargs keeps both spellings; the kebab one (or a one-word flag) names it.
    if (k === '_' || /[A-Z]/.test(k) || REPEATABLE.has(k) || !Array.isArray(v)) continue;
    throw new UsageError(`--${k} is given ${v.length} times (${v.map(String).join(', ')}): give it once`);
  }
}

/**
 * `bench --dry-run`: every check a real run makes before load starts
 * except --out (nothing is written), then the plan and what it would run.
 */
function dryRun(plan: Plan, out: string, host: string, micro: boolean): void {
  preflightBench({ plan, out }, { checkOut: false });
  const cells = planCells(plan, host);
  const perWorkload = plan.workloads.map((w) => `${w} ${cells.filter((c) => c.workload === w).length}`).join(', ');
  const seconds = cells.length * (plan.warmupSec + plan.durationSec + 1.5);
  const eta = seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${Math.round(seconds)}s`;
  process.stdout.write(
    `dry run: nothing is measured or written\n` +
      `plan:    ${JSON.stringify(plan)}\n` +
      `cells:   ${cells.length} (${perWorkload}), about ${eta}${micro ? ', then the micro-benchmarks' : ''}\n` +
      `out:     ${out}\n`,
  );
}

/** Per-request costs the workloads contribute to `micro` (HTTP parse …). */
function microExtraOps(): { name: string; fn: () => void }[] {
  return WORKLOADS.flatMap((w) => w.microOps?.() ?? []);
}

/** compare's measured seconds per cell when neither --duration nor --profile is given. */
const COMPARE_DURATION = '2';

/** The bench flags compare hands both sides (its selection and windows), with what they do. */
const COMPARE_BENCH_FLAGS: readonly (readonly [string, string])[] = [
  ['profile', 'profile (default ci)'],
  ['strategies', 'strategies'],
  ['workloads', 'workloads'],
  ['connections', 'connection counts'],
  ['http-connections', 'http connection counts'],
  ['chat-connections', 'chat connection counts'],
  ['idle', 'idle connection counts'],
  ['idle-connections', 'active counts the idle values run at'],
  ['idle-workloads', 'workloads the idle values run for'],
  ['duration', 'measured seconds per cell'],
  ['warmup', 'warm-up seconds per cell'],
  ['rate', 'open-loop rate (0: closed loop)'],
  ['message-size', 'echo/chat message size'],
  ['pipelining', 'http pipelining depth'],
  ['chat-senders', 'chat senders'],
  ['http-driver', 'http load generator'],
  ['tcp-driver', 'load transport'],
  ['load-threads', 'load threads'],
  ['server-cpus', 'server CPU list'],
  ['client-cpus', 'load CPU list'],
  ['timeout', 'reply timeout, ms'],
  ['anatomy', 'anatomy counter: auto, perf, proc or off'],
];

/** SO_SNDBUF is an int the kernel doubles; the kernel clamps to wmem_max anyway. */
const MAX_SNDBUF = 256 * 2 ** 20;

const cpus = defaultCpus();

/** Flags whose value is itself a list of flags ("--work-us 3"), which yargs would read as a flag of its own. */
const FLAG_VALUED = new Set(['--baseline-args', '--current-args']);

/** `--current-args "--work-us 3"` as `--current-args=--work-us 3`, the one spelling yargs reads as a value. */
function joinFlagValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const next = args[i + 1];
    if (FLAG_VALUED.has(a) && next !== undefined) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

const cli = yargs(joinFlagValues(hideBin(process.argv)))
  .scriptName('iomodels')
  .usage('$0 <command> [options]\n\nThe classic UNIX IO models, measured.')
  .command(
    'list',
    'list strategies and workloads, one line each',
    (y) => y.option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }).example(examplesOf('list')),
    (argv) => {
      const strategies = STRATEGIES.map((s) => {
        const a = s.availability();
        return { name: s.name, model: s.model, description: s.description, available: a.ok, ...(a.ok ? {} : { reason: a.reason }), workloads: s.workloads ?? WORKLOADS.map((w) => w.name) };
      });
      const workloads = WORKLOADS.map((w) => ({ name: w.name, description: w.description, opUnit: w.opUnit }));
      if (argv.json) {
        process.stdout.write(JSON.stringify({ strategies, workloads }, null, 2) + '\n');
        return;
      }
      const lines = [
        'strategies:',
        ...strategies.map((s) => `  ${s.name.padEnd(10)} ${s.model}: ${s.description}${s.available ? '' : ` [unavailable: ${s.reason ?? ''}]`}`),
        'workloads:',
        ...workloads.map((w) => `  ${w.name.padEnd(10)} ${w.description}`),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    },
  )
  .command(
    'serve',
    'run one strategy × workload server; prints "listening on HOST:PORT"',
    (y) =>
      y
        .option('strategy', { type: 'string', demandOption: true, describe: 'IO strategy (see list)' })
        .option('workload', { type: 'string', demandOption: true, describe: 'workload (see list)' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to bind' })
        .option('port', { type: 'string', default: '0', describe: 'port (0: any free port)' })
        .option('message-size', { type: 'string', describe: 'echo message size in bytes' })
        .option('http-close', { type: 'boolean', describe: 'http: close after every response (the seed\'s 用完就断)' })
        .option('work-us', { type: 'string', describe: 'http: CPU µs burned per request (default 0)' })
        .option('extra-syscalls', { type: 'string', describe: 'http: syscalls that change nothing (getpid) made per request, every strategy (default 0)' })
        .option('write-queue-cap', { type: 'string', describe: 'unsent bytes per connection before it is closed (default 4 MiB)' })
        .option('sndbuf', { type: 'string', describe: 'SO_SNDBUF bytes for every accepted socket (default 0: the system\'s, autotuned)' })
        .option('max-threads', { type: 'string', describe: `blocking: pool threads, one per served connection (default ${DEFAULT_MAX_THREADS})` })
        .option('max-queue', { type: 'string', describe: `blocking: connections that may wait for a thread; more are refused (default ${DEFAULT_MAX_QUEUE})` })
        .option('send-timeout', { type: 'string', describe: `blocking: ms a send may stall before its connection is closed (default ${DEFAULT_SEND_TIMEOUT_MS})` })
        .option('prestart', { type: 'string', describe: 'connections to get ready for before listening (blocking: starts that many threads, up to --max-threads; default 0)' })
        .option('protocol-json', { type: 'string', hidden: true })
        .example(examplesOf('serve')),
    async (argv) => {
      const port = portNumber('--port', argv.port);
      await checkBindHost('--host', argv.host);
      const options = protocolOptions(argv);
      const strategyOptions = {
        ...(argv.writeQueueCap === undefined ? {} : { writeQueueCap: positiveInt('--write-queue-cap', argv.writeQueueCap) }),
        ...(argv.sndbuf === undefined ? {} : { sndbufBytes: nonNegativeInt('--sndbuf', argv.sndbuf, MAX_SNDBUF) }),
        ...(argv.prestart === undefined ? {} : { prestart: nonNegativeInt('--prestart', argv.prestart, MAX_THREADS_LIMIT) }),
        extra: poolOptions(argv),
      };
      await runServe({ strategy: argv.strategy, workload: argv.workload, options, host: argv.host, port, strategyOptions });
    },
  )
  .command(
    'bench',
    'run the sweep; writes results.json, report.md, report.html and charts into --out',
    (y) =>
      y
        .option('strategies', { type: 'string', default: 'all', describe: 'comma-separated strategies, or all available' })
        .option('workloads', { type: 'string', default: 'all', describe: 'comma-separated workloads, or all' })
        .option('connections', { type: 'string', default: '10,100,1000', describe: 'comma-separated active connection counts (the machine sets the ceiling: fds, ports, memory)' })
        .option('idle', { type: 'string', default: '0', describe: 'comma-separated idle connection counts held open beside the active ones (echo, http), e.g. 0,1000,10000' })
        .option('idle-connections', { type: 'string', describe: 'active connection counts the non-zero --idle values run at (default: all of --connections)' })
        .option('idle-workloads', { type: 'string', describe: 'workloads the non-zero --idle values run for (default: every one with idle connections: echo, http)' })
        .option('duration', { type: 'string', default: '3', describe: 'measured seconds per cell' })
        .option('warmup', { type: 'string', default: '1', describe: 'unrecorded warm-up seconds per cell' })
        .option('repeat', { type: 'string', default: '1', describe: 'repetitions per cell, interleaved across strategies' })
        .option('rate', { type: 'string', default: '0', describe: 'open loop: total ops/s per cell (0: closed loop)' })
        .option('timeout', { type: 'string', default: '5000', describe: 'ms before a reply counts as a timeout' })
        .option('message-size', { type: 'string', default: '64', describe: 'echo/chat message size in bytes' })
        .option('http-close', { type: 'boolean', describe: 'http: close after every response (the seed\'s 用完就断)' })
        .option('work-us', { type: 'string', describe: 'http: CPU µs burned per request (default 0)' })
        .option('extra-syscalls', { type: 'string', describe: 'http: syscalls that change nothing (getpid) made per request, every strategy (default 0)' })
        .option('pipelining', { type: 'string', describe: 'http: requests in flight per connection (default 1)' })
        .option('http-driver', { type: 'string', default: 'native', describe: 'http load generator: native or autocannon' })
        .option('method', { type: 'string', describe: 'http: the request method (default GET)' })
        .option('path', { type: 'string', describe: 'http: the request target (default /)' })
        .option('header', { type: 'string', array: true, describe: 'http: a request header "Name: value" (repeatable; a Host replaces the default HOST:PORT)' })
        .option('body', { type: 'string', describe: 'http: send this file as the request body, with its Content-Length' })
        .option('expect-status', { type: 'string', describe: `http with --target: the statuses a reply may have, e.g. 200, 200,204 or 2xx (default ${DEFAULT_STATUSES})` })
        .option('expect-body', { type: 'string', describe: 'http with --target: every reply\'s body must equal this file (default: any well-framed body)' })
        .option('chat-connections', { type: 'string', describe: 'chat only: connection counts that replace --connections (its join costs N² deliveries)' })
        .option('http-connections', { type: 'string', describe: 'http only: connection counts that replace --connections' })
        .option('chat-senders', { type: 'string', describe: 'chat: clients that send (default 10; 0: all)' })
        .option('server-cpus', { type: 'string', default: cpus.server, describe: 'taskset CPU list for the server' })
        .option('client-cpus', { type: 'string', default: cpus.client, describe: 'taskset CPU list for the load' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'loopback address the servers bind' })
        .option('tcp-driver', { type: 'string', describe: 'load transport: uring (io_uring, the default where it runs), selector (epoll/kqueue/poll) or net (node:net)' })
        .option('load-threads', { type: 'string', describe: 'load threads the connections are spread over (default: one per CPU in --client-cpus; chat uses one)' })
        .option('out', { type: 'string', describe: 'output directory (default results/<timestamp>)' })
        .option('max-server-rss', { type: 'string', describe: 'kill a server whose RSS passes this (e.g. 4G; default half of RAM)' })
        .option('max-threads', { type: 'string', describe: `blocking: pool threads (default ${DEFAULT_MAX_THREADS})` })
        .option('max-queue', { type: 'string', describe: `blocking: connections that may wait for a thread (default ${DEFAULT_MAX_QUEUE})` })
        .option('send-timeout', { type: 'string', describe: `blocking: ms a send may stall before its connection is closed (default ${DEFAULT_SEND_TIMEOUT_MS})` })
        .option('target', { type: 'string', describe: 'drive an external server at HOST:PORT instead of spawning strategies' })
        .option('target-pid', { type: 'string', describe: 'PID of the --target server, for its CPU/RSS/threads' })
        .option('allow-remote', { type: 'boolean', default: false, describe: 'allow a --target outside 127.0.0.0/8 and ::1' })
        .option('micro', { type: 'boolean', default: false, describe: 'also run the micro-benchmarks and put them in the report' })
        .option('profile', { type: 'string', describe: `a named bundle of these flags: ${PROFILE_NAMES.join(', ')} (see README); flags given beside it override its values` })
        .option('anatomy', { type: 'string', default: 'auto', describe: 'count what the kernel does for the server per op: auto (perf, else /proc), perf, proc or off' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'check every flag and the machine\'s limits, print the plan and its cell count, run nothing' })
        .option('charts', { type: 'boolean', default: true, describe: 'draw the charts and report.html at the end (--no-charts: results.json and report.md only)' })
        .option('protocol-json', { type: 'string', hidden: true })
        .example(examplesOf('bench')),
    async (argv) => {
      // The profile first: every check below sees its values, and a typed flag wins over it.
      let profile: ProfileName | undefined;
      let fromProfile = new Set<string>();
      if (argv.profile !== undefined) {
        profile = profileOption('--profile', argv.profile);
        fromProfile = applyProfile(argv, profile, typedFlags(hideBin(process.argv)));
      }
      if (!isLoopback(argv.host)) throw new UsageError(`--host ${argv.host} is not a loopback address: bench drives load only at 127.0.0.0/8 or ::1`);
      const workloads = workloadList('--workloads', argv.workloads);
      fitProfile(argv, fromProfile, workloads, workloads.filter((w) => WORKLOADS.find((x) => x.name === w)?.idle !== undefined));
      let target: { text: string; pid?: number } | undefined;
      if (argv.target !== undefined) {
        const t = parseTarget(argv.target);
        if (t === null) throw new UsageError(`--target must be HOST:PORT (or [IPv6]:PORT) with a port 1-65535, got "${argv.target}"`);
        if (!isLoopback(t.host) && !argv.allowRemote) {
          throw new UsageError(`--target ${t.host} is not a loopback address: pass --allow-remote to load a server on another host`);
        }
        if (argv.strategies !== 'all') throw new UsageError('--target replaces --strategies: the target is the server under test');
        if (argv.workloads === 'all') throw new UsageError('--target needs --workloads: name the protocol the target speaks (e.g. --workloads http)');
        target = { text: argv.target };
        if (argv.targetPid !== undefined) {
          target.pid = positiveInt('--target-pid', argv.targetPid);
          checkPid('--target-pid', target.pid);
        }
      } else if (argv.targetPid !== undefined) {
        throw new UsageError('--target-pid goes with --target');
      } else if (argv.allowRemote) {
        throw new UsageError('--allow-remote goes with --target: bench spawns its own servers on loopback');
      }
      const byWorkload = perWorkloadConnections({ chat: argv.chatConnections, http: argv.httpConnections }, workloads);
      const tcpDriver = argv.tcpDriver === undefined ? undefined : tcpDriverOption('--tcp-driver', argv.tcpDriver);
      const plan: Plan = {
        strategies: target === undefined ? strategyList('--strategies', argv.strategies, workloads) : ['external'],
        workloads,
        connections: intList('--connections', argv.connections),
        ...(byWorkload === undefined ? {} : { connectionsByWorkload: byWorkload }),
        ...idleSweep(argv, workloads),
        durationSec: positiveNumber('--duration', argv.duration, 3600),
        warmupSec: nonNegativeNumber('--warmup', argv.warmup, 600),
        repeat: positiveInt('--repeat', argv.repeat, 1000),
        rate: nonNegativeInt('--rate', argv.rate, 100_000_000),
        serverCpus: argv.serverCpus,
        clientCpus: argv.clientCpus,
        protocol: protocolOptions(argv),
        timeoutMs: positiveInt('--timeout', argv.timeout, 600_000),
        ...(tcpDriver === undefined ? {} : { tcpDriver }),
        loadThreads: argv.loadThreads === undefined ? cpuCount(argv.clientCpus) : positiveInt('--load-threads', argv.loadThreads, 256),
        maxServerRssBytes: argv.maxServerRss === undefined ? Math.floor(os.totalmem() / 2) : byteSize('--max-server-rss', argv.maxServerRss),
        anatomy: anatomyOption('--anatomy', argv.anatomy),
      };
      const pool = poolOptions(argv);
      if (Object.keys(pool).length > 0) {
        plan.strategyArgs = { blocking: poolServeArgs(pool) };
        plan.strategyOptions = { blocking: pool };
      }
      if (target !== undefined) {
        plan.target = target.text;
        if (target.pid !== undefined) plan.targetPid = target.pid;
      }
      if (!(HTTP_DRIVERS as readonly string[]).includes(argv.httpDriver)) {
        throw new UsageError(`--http-driver must be one of ${HTTP_DRIVERS.join(', ')}, got "${argv.httpDriver}"`);
      }
      if (argv.httpDriver !== 'native') plan.httpDriver = argv.httpDriver;
      Object.assign(plan, httpPlan(argv, workloads, target !== undefined, argv.httpDriver));
      if (profile !== undefined) plan.profile = profile;
      const out = argv.out ?? path.join('results', timestamp());
      if (argv.dryRun) {
        dryRun(plan, out, argv.host, argv.micro);
        return;
      }
      const outcome = await runBench({
        plan,
        out,
        host: argv.host,
        ...(argv.micro ? { micro: { counts: [...DEFAULT_MICRO_COUNTS], timeMs: 300, extraOps: microExtraOps() } } : {}),
        tty: process.stderr.isTTY,
        charts: argv.charts,
        log: (l) => process.stdout.write(l + '\n'),
      });
      const html = outcome.htmlPath === undefined ? '' : `html:    ${outcome.htmlPath}\n`;
      const drawn = argv.charts ? `charts:  ${outcome.charts.length} PNG in ${out}\n` : '';
      process.stdout.write(`results: ${outcome.resultsPath}\nreport:  ${outcome.reportPath}\n${html}${drawn}`);
      process.exitCode = outcome.exitCode;
    },
  )
  .command(
    'micro',
    'tinybench micro-benchmarks: readiness-wait cost vs watched fds, FFI and EAGAIN costs',
    (y) =>
      y
        .option('out', { type: 'string', describe: 'output directory (default results/micro-<timestamp>)' })
        .option('counts', { type: 'string', default: DEFAULT_MICRO_COUNTS.join(','), describe: 'idle fd counts to measure' })
        .option('time', { type: 'string', default: '300', describe: 'ms of sampling per benchmark' })
        .example(examplesOf('micro')),
    async (argv) => {
      const counts = intList('--counts', argv.counts, 15_000);
      const timeMs = positiveInt('--time', argv.time, 60_000);
      checkFdLimit(Math.max(...counts));
      const out = argv.out ?? path.join('results', `micro-${timestamp()}`);
      checkOutDir(out);
      const micro = await runMicro({ counts, timeMs, extraOps: microExtraOps() }, (l) => process.stdout.write(l + '\n'));
      const w = writeMicro(micro, out);
      process.stdout.write(`micro:   ${w.jsonPath}\nchart:   ${w.chartPath}\nreport:  ${w.mdPath}\n`);
    },
  )
  .command(
    'report <results>',
    're-render report.md, report.html and the charts from a results.json',
    (y) =>
      y
        .positional('results', { type: 'string', demandOption: true, describe: 'path to results.json' })
        .option('out', { type: 'string', describe: 'output directory (default: beside the results file)' })
        .example(examplesOf('report')),
    async (argv) => {
      const results = loadResults(argv.results);
      const out = argv.out ?? path.dirname(argv.results);
      checkOutDir(out);
      let written;
      try {
        written = await writeReport(results, out);
      } catch (err) {
        throw new UsageError(`cannot write into ${out}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      for (const w of written.warnings) process.stderr.write(`iomodels: warning: ${w}\n`);
      const html = written.htmlPath === undefined ? '' : `html:    ${written.htmlPath}\n`;
      process.stdout.write(`report:  ${written.reportPath}\n${html}${written.charts.map((c) => `chart:   ${c}\n`).join('')}`);
    },
  )
  .command(
    'check',
    'CI gate: every metric of every cell REGRESSION, OK or INCONCLUSIVE (--current against --baseline); exit 1 on a REGRESSION',
    (y) =>
      y
        .option('baseline', { type: 'string', array: true, demandOption: true, describe: 'results.json of the reference run (several: pooled)' })
        .option('current', { type: 'string', array: true, demandOption: true, describe: 'results.json of the run under test (several: pooled)' })
        .option('tolerance', { type: 'string', default: '5%', describe: 'smallest change that counts, and the band OK means (5% or 0.05)' })
        .option('alpha', { type: 'string', default: '0.05', describe: 'family-wise error level of the whole table: Holm across every cell and metric gated' })
        .option('normalize-to', { type: 'string', describe: 'divide each cell by this STRATEGY/WORKLOAD/CONNECTIONS[/idle=N] cell of the same run' })
        .option('png', { type: 'string', describe: 'also draw baseline vs current with 95% CIs into this PNG' })
        .example(examplesOf('check')),
    async (argv) => {
      const outFile = (flag: string, file: string): string => {
        checkOutFile(flag, file);
        return file;
      };
      const files = (flag: string, v: readonly string[]): string[] => {
        const out = v.map(String).filter((f) => f.trim() !== '');
        if (out.length === 0) throw new UsageError(`${flag} needs a results.json path`);
        return out;
      };
      process.exitCode = await runCheck({
        baseline: files('--baseline', argv.baseline),
        current: files('--current', argv.current),
        tolerance: tolerance('--tolerance', argv.tolerance),
        alpha: probability('--alpha', argv.alpha),
        ...(argv.normalizeTo === undefined ? {} : { normalizeTo: cellRef('--normalize-to', argv.normalizeTo) }),
        ...(argv.png === undefined ? {} : { png: outFile('--png', argv.png) }),
      });
    },
  )
  .command(
    'compare',
    'run base and head in interleaved rounds until every gated metric is resolved or --budget is spent; exits like check',
    (y) => {
      let b = y
        .option('baseline', { type: 'string', describe: 'checkout of the base, with its own built dist/ (default: this one)' })
        .option('current', { type: 'string', describe: 'checkout of the head, with its own built dist/ (default: this one)' })
        .option('baseline-args', { type: 'string', default: '', describe: 'extra bench flags of the base, e.g. "--work-us 3" (server cost knobs)' })
        .option('current-args', { type: 'string', default: '', describe: 'extra bench flags of the head, e.g. "--extra-syscalls 1"' })
        .option('budget', { type: 'string', default: '10m', describe: 'wall time for all rounds, e.g. 10m, 90s; a round starts only if it fits' })
        .option('min-rounds', { type: 'string', default: '3', describe: 'rounds before a resolved table may stop it' })
        .option('max-rounds', { type: 'string', default: '1000', describe: 'stop after this many rounds whatever the verdicts' })
        .option('tolerance', { type: 'string', default: '5%', describe: 'smallest change that counts, and the band OK means (5% or 0.05)' })
        .option('alpha', { type: 'string', default: '0.05', describe: 'family-wise error level of the whole table: Holm across every cell and metric gated' })
        .option('out', { type: 'string', describe: 'directory for every round\'s results.json and compare.md (default results/compare-<timestamp>)' });
      for (const [flag, describe] of COMPARE_BENCH_FLAGS) b = b.option(flag, { type: 'string', describe: `bench ${describe}` });
      return b.example(examplesOf('compare'));
    },
    async (argv) => {
      const one = (flag: string, v: unknown): string | undefined => {
        if (Array.isArray(v)) throw new UsageError(`--${flag} is given ${v.length} times (${v.map(String).join(', ')}): give it once`);
        return typeof v === 'string' ? v : undefined;
      };
      const sideOf = (flag: string, dir: string | undefined, args: string): CompareSide => {
        const s: CompareSide = { args: splitArgs(`--${flag}-args`, args) };
        if (dir !== undefined) s.dir = path.resolve(dir);
        checkSide(`--${flag}`, s);
        // Rounds are read by compare, not by people: charts would only cost each round seconds.
        if (skipsCharts(s)) s.args = ['--no-charts', ...s.args];
        return s;
      };
      const benchArgs: string[] = [];
      const typed = typedFlags(hideBin(process.argv));
      for (const [flag] of COMPARE_BENCH_FLAGS) {
        const v = argv[flag];
        // Every one is a string option, once (strictFlags refuses repeats).
        if (typeof v === 'string' && typed.has(flag)) benchArgs.push(`--${flag}`, v);
      }
      // The ci profile unless one is named, flags given beside it winning; its windows stretched to
      // COMPARE_DURATION, since every cell also pays seconds of fixed start-up (server, load, perf)
      // that 1-second windows would let eat most of a budget.
      if (!typed.has('profile')) {
        benchArgs.unshift('--profile', 'ci');
        if (!typed.has('duration')) benchArgs.push('--duration', COMPARE_DURATION);
      }
      const minRounds = positiveInt('--min-rounds', argv.minRounds, 1000);
      const maxRounds = positiveInt('--max-rounds', argv.maxRounds, 100_000);
      if (maxRounds < minRounds) throw new UsageError(`--max-rounds ${maxRounds} is below --min-rounds ${minRounds}`);
      const out = argv.out ?? path.join('results', `compare-${timestamp()}`);
      checkOutDir(out);
      const r = await runCompare({
        base: sideOf('baseline', one('baseline', argv.baseline), argv.baselineArgs),
        head: sideOf('current', one('current', argv.current), argv.currentArgs),
        benchArgs,
        budgetSec: durationSec('--budget', argv.budget),
        minRounds,
        maxRounds,
        out,
        tolerance: tolerance('--tolerance', argv.tolerance),
        alpha: probability('--alpha', argv.alpha),
        log: (l) => process.stderr.write(l + '\n'),
      });
      process.stdout.write(r.markdown + '\n');
      process.exitCode = r.exitCode;
    },
  )
  .middleware((argv) => strictFlags(argv, hideBin(process.argv)))
  .demandCommand(1, 'name a command: list, serve, bench, report, check, compare, micro')
  .strict()
  // Examples are laid out in a column of at most half this width: wide enough
  // off a terminal (piped, in tests) that each stays one line to copy.
  .wrap(Math.min(process.stdout.columns ?? 150, 160))
  .help()
  .version(toolVersion())
  .fail((msg, err) => {
    if (err instanceof UsageError) fail(err.message);
    if (err !== undefined && err !== null) {
      process.stderr.write(`iomodels: internal error: ${err.stack ?? err.message}\n`);
      process.exit(3);
    }
    fail(msg);
  });

try {
  await cli.parseAsync();
} catch (err) {
  if (err instanceof UsageError) fail(err.message);
  throw err;
}
