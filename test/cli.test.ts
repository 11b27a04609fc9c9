/** The CLI: names, output contract, and bad input (one line, exit 2, no stack). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { CLI, startServe } from './helpers/serve.js';
import { DEFAULT_TRANSPORT } from './helpers/transports.js';

function run(args: string[], shellPrefix = ''): { code: number | null; stdout: string; stderr: string } {
  const r =
    shellPrefix === ''
      ? spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 })
      : spawnSync('sh', ['-c', `${shellPrefix} "${process.execPath}" "${CLI}" ${args.map((a) => `'${a}'`).join(' ')}`], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2, exactly one line on stderr, no stack trace, matching `re`. */
function assertUsageError(args: string[], re: RegExp, shellPrefix = ''): void {
  const r = run(args, shellPrefix);
  assert.equal(r.code, 2, `${args.join(' ')}: expected exit 2, got ${r.code}; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `${args.join(' ')}: expected one line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(r.stderr, re);
}

test('list names every strategy and workload; --json parses', () => {
  const r = run(['list', '--json']);
  assert.equal(r.code, 0);
  const data = JSON.parse(r.stdout) as { strategies: { name: string }[]; workloads: { name: string }[] };
  assert.ok(data.strategies.some((s) => s.name === 'libuv'), 'libuv listed');
  assert.ok(data.workloads.some((w) => w.name === 'echo'), 'echo listed');
  const plain = run(['list']);
  assert.match(plain.stdout, /^ {2}libuv /m, 'one line per strategy');
});

test('unknown strategy or workload lists the valid names', () => {
  assertUsageError(['bench', '--strategies', 'nope', '--workloads', 'echo'], /unknown strategy "nope".*valid: .*libuv/);
  assertUsageError(['bench', '--workloads', 'nope'], /unknown workload "nope".*valid: .*echo/);
  assertUsageError(['serve', '--strategy', 'nope', '--workload', 'echo'], /unknown strategy "nope".*valid: .*libuv/);
  assertUsageError(['serve', '--strategy', 'libuv', '--workload', 'nope'], /unknown workload "nope".*valid: .*echo/);
});

test('bad numbers name their flag', () => {
  for (const c of ['0', '-5', '1.5', 'ten', '10,,20', '20000']) {
    assertUsageError(['bench', '--strategies', 'libuv', '--workloads', 'echo', '--connections', c], /--connections/);
  }
  for (const d of ['0', '-1', 'x']) assertUsageError(['bench', '--workloads', 'echo', '--duration', d], /--duration/);
  assertUsageError(['bench', '--workloads', 'echo', '--warmup', '-1'], /--warmup/);
  assertUsageError(['bench', '--workloads', 'echo', '--repeat', '0'], /--repeat/);
  assertUsageError(['bench', '--workloads', 'echo', '--message-size', '0'], /--message-size/);
  assertUsageError(['bench', '--workloads', 'http', '--http-driver', 'wrk'], /--http-driver must be one of native, autocannon/);
  assertUsageError(['bench', '--workloads', 'http', '--work-us', '-5'], /--work-us/);
  assertUsageError(['bench', '--workloads', 'chat', '--chat-senders', 'x'], /--chat-senders/);
  assertUsageError(['bench', '--workloads', 'echo', '--server-cpus', '99'], /--server-cpus.*CPU 99 does not exist/);
  assertUsageError(['bench', '--workloads', 'echo', '--client-cpus', 'a-b'], /--client-cpus.*not a CPU list/);
  assertUsageError(['serve', '--strategy', 'libuv', '--workload', 'echo', '--port', '70000'], /--port must be 0-65535/);
  assertUsageError(['bench', '--workloads', 'echo', '--host', '10.1.2.3'], /not a loopback address/);
  assertUsageError(['frobnicate'], /Unknown argument|name a command/);
  assertUsageError(['bench', '--workloads', 'echo', '--max-server-rss', 'lots'], /--max-server-rss must be a size/);
  assertUsageError(['bench', '--workloads', 'echo', '--target', '10.0.0.8:80'], /--target 10\.0\.0\.8 is not a loopback address: pass --allow-remote/);
  assertUsageError(['bench', '--workloads', 'echo', '--target', '127.0.0.1'], /--target must be HOST:PORT/);
  assertUsageError(['bench', '--workloads', 'echo', '--target', '127.0.0.1:0'], /--target must be HOST:PORT/);
  assertUsageError(['bench', '--target', '127.0.0.1:8080'], /--target needs --workloads/);
  assertUsageError(['bench', '--workloads', 'echo', '--target-pid', '1'], /--target-pid goes with --target/);
  assertUsageError(['bench', '--workloads', 'echo', '--tcp-driver', 'epoll'], /--tcp-driver must be one of selector, uring, net, got "epoll"/);
});

test('port in use: "port N is in use", exit 2', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    assertUsageError(['serve', '--strategy', 'libuv', '--workload', 'echo', '--port', String(port)], new RegExp(`port ${port} is in use`));
  } finally {
    blocker.close();
  }
});

test('an unwritable --out fails before any load starts', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-cli-'));
  const file = path.join(dir, 'a-file');
  writeFileSync(file, 'x');
  // A path under a regular file can never be created, even by root.
  assertUsageError(['bench', '--strategies', 'libuv', '--workloads', 'echo', '--connections', '1', '--out', path.join(file, 'out')], /--out .* is not writable/);
});

test('more connections than the fd limit: preflight error showing ulimit -n', () => {
  assertUsageError(['bench', '--strategies', 'libuv', '--workloads', 'echo', '--connections', '1000'], /fd limit \(ulimit -n\) is 512/, 'ulimit -n 512;');
});

test('bench writes results.json, report.md and report.html and prints their paths; a typed flag beats --profile', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'iomodels-bench-'));
  // Every value of the ci profile but its workload is overridden here.
  const r = run(['bench', '--profile', 'ci', '--strategies', 'libuv', '--connections', '2', '--duration', '0.5', '--warmup', '0.2', '--repeat', '1', '--out', out]);
  assert.equal(r.code, 0, `bench failed: ${r.stderr}`);
  assert.match(r.stdout, new RegExp(`results: ${out}/results.json`));
  assert.match(r.stdout, new RegExp(`report: +${out}/report.md`));
  assert.match(r.stdout, new RegExp(`^html: +${out}/report.html$`, 'm'), 'expected the path of report.html');
  assert.ok(readFileSync(path.join(out, 'report.html'), 'utf8').startsWith('<!doctype html>'), 'expected report.html written');
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(results['schemaVersion'], 1);
  assert.equal(results['complete'], true);
  const plan = results['plan'] as Record<string, unknown>;
  assert.deepEqual([plan['profile'], plan['workloads'], plan['connections'], plan['repeat'], plan['durationSec']], ['ci', ['echo'], [2], 1, 0.5], 'expected the profile recorded, its workload kept, the typed values winning');
  const cells = results['cells'] as Record<string, unknown>[];
  assert.equal(cells.length, 1);
  const cell = cells[0] ?? {};
  for (const k of ['strategy', 'workload', 'connections', 'established', 'status', 'ops', 'opsPerSec', 'bytesPerSec', 'latencyUs', 'errors', 'server', 'client']) {
    assert.ok(k in cell, `cell has contract key ${k}`);
  }
  for (const k of ['cpuSeconds', 'cpuUsPerOp', 'peakRssBytes', 'peakThreads', 'peakFds']) {
    assert.ok(k in (cell['server'] as object), `cell.server has ${k}`);
  }
  for (const k of ['p50', 'p90', 'p99', 'p999', 'max', 'mean', 'histogram']) {
    assert.ok(k in (cell['latencyUs'] as object), `cell.latencyUs has ${k}`);
  }
  const client = cell['client'] as Record<string, unknown>;
  assert.match(String(client['driver']), DEFAULT_TRANSPORT, `the default transport ran, cell.client.driver was ${String(client['driver'])}`);
  const report = readFileSync(path.join(out, 'report.md'), 'utf8');
  assert.match(report, /\| libuv \| echo \| 2 \|/, 'report.md has the cell row');
  const rr = run(['report', path.join(out, 'results.json'), '--out', path.join(out, 're')]);
  assert.equal(rr.code, 0, `report failed: ${rr.stderr}`);
  assert.match(rr.stdout, new RegExp(`^html: +${out}/re/report.html$`, 'm'), 'expected report to print the path of report.html');
  assert.equal(readFileSync(path.join(out, 're', 'report.md'), 'utf8').split('\n').slice(3).join('\n'), report.split('\n').slice(3).join('\n'), 're-rendered report matches');
});

test('report on a corrupt, empty or missing results file names the file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-bad-'));
  const corrupt = path.join(dir, 'corrupt.json');
  writeFileSync(corrupt, '{"schemaVersion": 1, "cells": [');
  const empty = path.join(dir, 'empty.json');
  writeFileSync(empty, '');
  const other = path.join(dir, 'other.json');
  writeFileSync(other, '{"hello": "world"}');
  assertUsageError(['report', corrupt], new RegExp(`${corrupt}: not valid JSON`));
  assertUsageError(['report', empty], new RegExp(`${empty}: empty file`));
  assertUsageError(['report', other], new RegExp(`${other}: schemaVersion`));
  assertUsageError(['report', path.join(dir, 'missing.json')], /missing\.json: no such file/);
});

test('serve prints exactly "listening on HOST:PORT" and exits 0 within 2 s of SIGTERM or SIGINT', async () => {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    const s = await startServe('libuv', 'echo');
    assert.ok(s.port > 0);
    const r = await s.stop(sig);
    assert.equal(r.code, 0, `exit 0 on ${sig}`);
    assert.ok(r.ms < 2000, `exit within 2 s of ${sig}, took ${Math.round(r.ms)} ms`);
  }
});

test('bench --tcp-driver net drives echo with node:net and says so in the cell', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'iomodels-bench-net-'));
  const r = run(['bench', '--strategies', 'libuv', '--workloads', 'echo', '--connections', '2', '--duration', '0.3', '--warmup', '0', '--tcp-driver', 'net', '--out', out]);
  assert.equal(r.code, 0, `bench failed: ${r.stderr}`);
  const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { plan: Record<string, unknown>; cells: { client: { driver: string }; status: string }[] };
  assert.equal(results.plan['tcpDriver'], 'net', 'the plan records the asked driver');
  assert.equal(results.cells[0]?.client.driver, 'net', 'the cell names the node:net driver');
  assert.equal(results.cells[0]?.status, 'ok', 'and it measured');
});
