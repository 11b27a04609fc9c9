/**
 * What counting the anatomy costs the server: the same cell run with
 * `--anatomy perf` and with `--anatomy off`, in interleaved rounds (ABBA,
 * so drift hits both alike), through the runner bench uses. Prints each
 * round's throughput and server CPU per op, the per-round ratios (on/off)
 * and the median ratio with its 95% bootstrap interval.
 *
 *   node dist/scripts/anatomy-overhead.js [STRATEGIES=epoll,io-uring] [WORKLOAD=echo] [CONNECTIONS=100] [SECONDS=2] [ROUNDS=6]
 */
import * as os from 'node:os';
import type { AnatomyMode, Plan } from '../core/results.js';
import { positiveInt, positiveNumber, strategyList, workloadList } from '../harness/options.js';
import { runCell } from '../harness/runner.js';
import { estimate } from '../reports/stats.js';
import { runScript } from './yardstick.js';

function plan(strategy: string, workload: string, connections: number, seconds: number, anatomy: AnatomyMode): Plan {
  const two = os.cpus().length >= 2;
  return {
    strategies: [strategy],
    workloads: [workload],
    connections: [connections],
    durationSec: seconds,
    warmupSec: 0.5,
    repeat: 1,
    rate: 0,
    serverCpus: two ? '0' : '',
    clientCpus: two ? '1' : '',
    protocol: { messageSize: 64 },
    timeoutMs: 5000,
    loadThreads: 1,
    maxServerRssBytes: Math.floor(os.totalmem() / 2),
    anatomy,
  };
}

const f = (x: number, d = 3): string => x.toFixed(d);

await runScript('anatomy-overhead', async () => {
  const [s = 'epoll,io-uring', w = 'echo', c = '100', sec = '2', r = '6'] = process.argv.slice(2);
  const workload = workloadList('WORKLOAD', w)[0] ?? 'echo';
  const strategies = strategyList('STRATEGIES', s, [workload]);
  const connections = positiveInt('CONNECTIONS', c, 10_000);
  const seconds = positiveNumber('SECONDS', sec, 600);
  const rounds = positiveInt('ROUNDS', r, 100);
  for (const strategy of strategies) {
    const ops: number[] = [];
    const cpu: number[] = [];
    process.stdout.write(`${strategy} ${workload} c=${connections}, ${seconds} s per run, ${rounds} rounds (ABBA)\n`);
    for (let i = 0; i < rounds; i++) {
      const order: AnatomyMode[] = i % 2 === 0 ? ['perf', 'off'] : ['off', 'perf'];
      const got = new Map<AnatomyMode, { ops: number; cpu: number }>();
      for (const mode of order) {
        const cell = await runCell({ strategy, workload, connections, idle: 0, rep: i, plan: plan(strategy, workload, connections, seconds, mode), host: '127.0.0.1' });
        if (cell.status === 'failed') throw new Error(`${strategy} round ${i} (${mode}) failed: ${cell.reason ?? ''}`);
        got.set(mode, { ops: cell.opsPerSec, cpu: cell.server.cpuUsPerOp });
      }
      const on = got.get('perf');
      const off = got.get('off');
      if (on === undefined || off === undefined) continue;
      ops.push(on.ops / off.ops);
      cpu.push(on.cpu / off.cpu);
      process.stdout.write(`  round ${i}: on ${Math.round(on.ops)} ops/s ${f(on.cpu, 2)} µs/op · off ${Math.round(off.ops)} ops/s ${f(off.cpu, 2)} µs/op · ratio ${f(on.ops / off.ops)} (ops) ${f(on.cpu / off.cpu)} (CPU/op)\n`);
    }
    const eo = estimate(ops);
    const ec = estimate(cpu);
    process.stdout.write(`  counting on / off: throughput ${f(eo.median)} [95% CI ${f(eo.lo)}–${f(eo.hi)}], server CPU per op ${f(ec.median)} [${f(ec.lo)}–${f(ec.hi)}]\n`);
  }
});
