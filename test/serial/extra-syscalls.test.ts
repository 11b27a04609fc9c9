/**
 * Every strategy honours `--extra-syscalls`: perf counts the getpid calls
 * the server makes while it answers a known number of requests. Counting,
 * not timing, so nothing here depends on how busy the machine is. Skipped
 * where perf cannot count the server's tracepoints.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as http from 'node:http';
import { describe, test } from 'node:test';
import { STRATEGIES } from '../../strategies/registry.js';
import { startServe } from '../helpers/serve.js';

const REQUESTS = 40;
const N = 3;

function perfUsable(): boolean {
  const r = spawnSync('perf', ['stat', '-x,', '-e', 'syscalls:sys_enter_getpid', '--', 'true'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && /sys_enter_getpid/.test(r.stderr);
}

function get(port: number, agent: http.Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

/** getpid calls of `pid` while `work` runs, counted by perf in 100 ms intervals (the first interval line proves it is counting). */
async function countGetpid(pid: number, work: () => Promise<void>): Promise<number> {
  const perf = spawn('perf', ['stat', '-I', '100', '-x,', '-e', 'syscalls:sys_enter_getpid', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  perf.stderr.setEncoding('utf8');
  const counting = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`perf did not start counting: ${err}`)), 10_000);
    perf.stderr.on('data', (d: string) => {
      err += d;
      if (err.includes('sys_enter_getpid')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await counting;
  await work();
  // The last interval must close after the last request was answered.
  await new Promise((r) => setTimeout(r, 250));
  const done = new Promise<void>((r) => perf.once('exit', () => r()));
  perf.kill('SIGINT');
  await done;
  const lines = err.split('\n').filter((l) => l.includes('sys_enter_getpid'));
  // "<not counted>": no thread of the server ran in that interval.
  const n = lines.reduce((sum, l) => sum + (l.split(',')[1]?.startsWith('<') === true ? 0 : Number(l.split(',')[1])), 0);
  assert.ok(lines.length > 0 && Number.isFinite(n), `perf counted nothing: ${err}`);
  return n;
}

const skip = perfUsable() ? false : 'perf cannot count syscalls:sys_enter_getpid here';

describe('every strategy makes --extra-syscalls N getpid calls per request', { skip }, () => {
  for (const s of STRATEGIES) {
    const a = s.availability();
    const serves = s.workloads === undefined || s.workloads.includes('http');
    test(s.name, { skip: !a.ok ? a.reason : !serves ? 'no http' : false }, async () => {
      const served = await startServe(s.name, 'http', ['--extra-syscalls', String(N)]);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const n = await countGetpid(served.pid, async () => {
          for (let i = 0; i < REQUESTS; i++) await get(served.port, agent);
        });
        // A runtime may call getpid on its own now and then; never fewer than asked.
        assert.ok(n >= REQUESTS * N && n <= REQUESTS * N + 10, `${REQUESTS} requests × ${N}: counted ${n}`);
      } finally {
        agent.destroy();
        await served.stop();
      }
    });
  }
});
