/**
 * Side-by-side rates of the echo load drivers against the same server, in
 * one run: the native C epoll client (scripts/c-echo-client.c, compiled on
 * demand into /tmp), our load on the Selector transport and on node:net. Rounds are interleaved so machine noise hits all
 * clients alike; the median of each client is printed. Server pinned to
 * CPU 0, every client to CPU 1 (as bench does on 2 cores).
 *
 *   node dist/scripts/compare-echo-drivers.js [SERVERS=c,epoll] [CONNECTIONS=100] [SECONDS=3] [ROUNDS=3]
 *
 * A server `c` is scripts/c-echo-server.c (a C epoll echo server, compiled
 * on demand); any other name is one of our strategies.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServerProcess, stopServer } from '../harness/server-process.js';
import { positiveInt } from '../harness/options.js';
import { measuredRun, median, runPinned, runScript } from './yardstick.js';

const SELF = fileURLToPath(import.meta.url);
const C_SRC = fileURLToPath(new URL('../../scripts/c-echo-client.c', import.meta.url));
const C_BIN = '/tmp/iomodels-c-echo-client';
const C_SERVER_SRC = fileURLToPath(new URL('../../scripts/c-echo-server.c', import.meta.url));
const C_SERVER_BIN = '/tmp/iomodels-c-echo-server';
const CLIENTS = ['c-epoll', 'selector', 'uring', 'net'] as const;

interface Row {
  opsPerSec: number;
  cpuPercent: number;
  errors: number;
}

/** Child mode: run one JS driver, print one JSON line. */
async function runClient(name: string, port: number, connections: number, seconds: number): Promise<void> {
  const { r, cpuSec, errors } = await measuredRun('echo', name, port, connections, seconds);
  const row: Row = { opsPerSec: r.ops / r.windowSec, cpuPercent: (100 * cpuSec) / r.windowSec, errors };
  process.stdout.write(JSON.stringify(row) + '\n');
}

function compileC(): void {
  for (const [src, bin] of [
    [C_SRC, C_BIN],
    [C_SERVER_SRC, C_SERVER_BIN],
  ] as const) {
    if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) continue;
    const r = spawnSync('gcc', ['-O2', '-o', bin, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc failed: ${r.stderr}`);
  }
}

/** The C epoll echo server on CPU 0: a server cheap enough that the client is the ceiling. */
async function startCServer(): Promise<{ port: number; stop: () => void }> {
  const child = spawn('taskset', ['-c', '0', C_SERVER_BIN, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on [^:]+:(\d+)/.exec(out);
      if (m !== null) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`the C server exited (${code})`)));
  });
  return { port, stop: () => child.kill('SIGTERM') };
}

async function measure(client: string, port: number, conns: number, secs: number): Promise<Row> {
  if (client === 'c-epoll') {
    const out = await runPinned(C_BIN, ['127.0.0.1', String(port), String(conns), String(secs), '64', '1']);
    return JSON.parse(out) as Row;
  }
  const out = await runPinned(process.execPath, [SELF, '--client', client, String(port), String(conns), String(secs)]);
  return JSON.parse(out) as Row;
}

function pairedText(rs: number[]): string {
  return `${median(rs).toFixed(2)} (${(rs[0] ?? 0).toFixed(2)}–${(rs[rs.length - 1] ?? 0).toFixed(2)})`;
}

/** Every client against one server, rounds interleaved; prints the medians. */
async function compareAgainst(name: string, server: { port: number; stop: () => unknown }, connections: number, seconds: number, rounds: number): Promise<void> {
  const rows = new Map<string, Row[]>(CLIENTS.map((c) => [c, []]));
  try {
    for (let i = 0; i < rounds; i++) {
      for (const c of CLIENTS) rows.get(c)?.push(await measure(c, server.port, connections, seconds));
    }
  } finally {
    await server.stop();
  }
  const ref = median((rows.get('c-epoll') ?? []).map((r) => r.opsPerSec));
  const refRounds = (rows.get('c-epoll') ?? []).map((r) => r.opsPerSec);
  // Each round's ratio to the C client's run next to it: the noise both saw cancels.
  const paired = (rs: Row[]): number[] => rs.map((r, i) => r.opsPerSec / (refRounds[i] ?? Number.NaN)).sort((a, b) => a - b);
  process.stdout.write(`\nserver ${name}, ${connections} connections, ${seconds} s × ${rounds} rounds (medians)\n`);
  process.stdout.write('| client | round trips/s | × C client | × C, same round: median (min–max) | client CPU % | client CPU µs/op | errors |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n');
  for (const c of CLIENTS) {
    const rs = rows.get(c) ?? [];
    const ops = median(rs.map((r) => r.opsPerSec));
    const usPerOp = median(rs.map((r) => (r.opsPerSec > 0 ? (r.cpuPercent * 1e4) / r.opsPerSec : 0)));
    process.stdout.write(
      `| ${c} | ${Math.round(ops)} | ${(ops / ref).toFixed(2)} | ${pairedText(paired(rs))} | ${median(rs.map((r) => r.cpuPercent)).toFixed(0)} | ${usPerOp.toFixed(1)} | ${rs.reduce((a, r) => a + r.errors, 0)} |\n`,
    );
  }
}

async function main(): Promise<void> {
  const [strategies = 'c,epoll', a1 = '100', a2 = '3', a3 = '3'] = process.argv.slice(2);
  const connections = positiveInt('CONNECTIONS', a1);
  const seconds = positiveInt('SECONDS', a2);
  const rounds = positiveInt('ROUNDS', a3);
  compileC();
  for (const strategy of strategies.split(',')) {
    if (strategy === 'c') {
      await compareAgainst('c (scripts/c-echo-server.c)', await startCServer(), connections, seconds, rounds);
      continue;
    }
    const started = await startServerProcess({
      strategy,
      workload: 'echo',
      options: {},
      host: '127.0.0.1',
      cpus: '0',
      strategyOptions: { prestart: connections },
      readyMs: 60_000,
      pollMs: 5000,
      stopMs: 5000,
    });
    if (!started.ok) throw new Error(`${strategy}: ${started.reason}`);
    const srv = started.server;
    await compareAgainst(strategy, { port: srv.port, stop: () => stopServer(srv) }, connections, seconds, rounds);
  }
}

if (process.argv[2] === '--client') {
  await runClient(process.argv[3] ?? '', Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6]));
} else {
  await runScript('compare-echo-drivers', main);
}
