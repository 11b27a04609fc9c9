/**
 * Side-by-side client cost of the chat load transports against the same
 * server, in one run: how much CPU the load side spends per delivery (one
 * message reaching one client) on io_uring, on the Selector layer and on
 * node:net. Rounds are interleaved so machine noise hits every transport
 * alike; each round's ratio to node:net in the same round is printed, with
 * the median. Server pinned to CPU 0, every client to CPU 1 (as bench does
 * on 2 cores).
 *
 *   node dist/scripts/compare-chat-drivers.js [STRATEGY=io-uring] [CONNECTIONS=100] [SECONDS=3] [ROUNDS=3] [RATE=0]
 *
 * RATE 0 is closed loop: each transport runs as fast as it can, so a
 * faster one also reads smaller batches. A RATE in messages/s (open loop,
 * below every transport's ceiling) gives each the same work to do.
 *
 * The CPU is the load process's own (user + system) over the measured
 * window only, so connecting and joining are not in it. Its kernel part is
 * printed too, and that part alone against node:net's whole cost: on
 * loopback every receive also pays for the ACK it sends (processed inline
 * against the server's socket), work no transport can leave out, so that
 * column is the lowest ratio a transport could reach with free user space.
 */
import { fileURLToPath } from 'node:url';
import { startServerProcess, stopServer } from '../harness/server-process.js';
import { nonNegativeInt, positiveInt } from '../harness/options.js';
import { measuredRun, median, runPinned, runScript } from './yardstick.js';

const SELF = fileURLToPath(import.meta.url);
const CLIENTS = ['uring', 'selector', 'net'] as const;

interface Row {
  opsPerSec: number;
  deliveriesPerSec: number;
  cpuSec: number;
  sysSec: number;
  deliveries: number;
  errors: number;
}

/** Child mode: run one chat load, print one JSON line. */
async function runClient(name: string, port: number, connections: number, seconds: number, rate: number): Promise<void> {
  const { r, cpuSec, sysSec, errors } = await measuredRun('chat', name, port, connections, seconds, rate);
  const deliveries = r.extra['deliveries'] ?? 0;
  const row: Row = { opsPerSec: r.ops / r.windowSec, deliveriesPerSec: deliveries / r.windowSec, cpuSec, sysSec, deliveries, errors };
  process.stdout.write(JSON.stringify(row) + '\n');
}

const usPerDelivery = (r: Row): number => (r.deliveries > 0 ? (1e6 * r.cpuSec) / r.deliveries : Number.NaN);
const kernelUsPerDelivery = (r: Row): number => (r.deliveries > 0 ? (1e6 * r.sysSec) / r.deliveries : Number.NaN);

async function main(): Promise<void> {
  const [strategy = 'io-uring', a1 = '100', a2 = '3', a3 = '3', a4 = '0'] = process.argv.slice(2);
  const connections = positiveInt('CONNECTIONS', a1);
  const seconds = positiveInt('SECONDS', a2);
  const rounds = positiveInt('ROUNDS', a3);
  const rate = nonNegativeInt('RATE', a4);
  const started = await startServerProcess({
    strategy,
    workload: 'chat',
    options: {},
    host: '127.0.0.1',
    cpus: '0',
    strategyOptions: {},
    readyMs: 60_000,
    pollMs: 5000,
    stopMs: 5000,
  });
  if (!started.ok) throw new Error(`${strategy}: ${started.reason}`);
  const srv = started.server;
  const rows = new Map<string, Row[]>(CLIENTS.map((c) => [c, []]));
  try {
    for (let i = 0; i < rounds; i++) {
      for (const c of CLIENTS) {
        const out = await runPinned(process.execPath, [SELF, '--client', c, String(srv.port), String(connections), String(seconds), String(rate)]);
        rows.get(c)?.push(JSON.parse(out) as Row);
      }
    }
  } finally {
    await stopServer(srv);
  }
  const ref = rows.get('net') ?? [];
  process.stdout.write(`\nchat on ${strategy}, ${connections} clients, ${rate > 0 ? `open loop at ${rate} messages/s` : 'closed loop'}, ${seconds} s × ${rounds} rounds (medians)\n`);
  process.stdout.write(
    '| client | messages/s | deliveries/s | client CPU µs/delivery | of it kernel | × node:net, same round: median (each round) | kernel alone × node:net | errors |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n',
  );
  for (const c of CLIENTS) {
    const rs = rows.get(c) ?? [];
    const ratios = rs.map((r, i) => usPerDelivery(r) / usPerDelivery(ref[i] ?? r));
    // The transport's kernel time alone against node:net's whole cost: the
    // lowest ratio it could reach if its own user-space work cost nothing.
    const floors = rs.map((r, i) => kernelUsPerDelivery(r) / usPerDelivery(ref[i] ?? r));
    process.stdout.write(
      `| ${c} | ${Math.round(median(rs.map((r) => r.opsPerSec)))} | ${Math.round(median(rs.map((r) => r.deliveriesPerSec)))} | ${median(rs.map(usPerDelivery)).toFixed(2)} | ${median(rs.map(kernelUsPerDelivery)).toFixed(2)} | ${median(ratios).toFixed(2)} (${ratios.map((x) => x.toFixed(2)).join(', ')}) | ${median(floors).toFixed(2)} | ${rs.reduce((a, r) => a + r.errors, 0)} |\n`,
    );
  }
}

if (process.argv[2] === '--client') {
  await runClient(process.argv[3] ?? '', Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6]), Number(process.argv[7] ?? 0));
} else {
  await runScript('compare-chat-drivers', main);
}
