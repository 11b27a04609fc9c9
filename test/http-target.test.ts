/**
 * `bench --target` against an HTTP server that is not ours (issue: load
 * that never limits what it measures, part 4): a node:http server in this
 * process answers chunked, with a Content-Length, or with Connection:
 * close, on a custom method, path, header and body, and sees exactly what
 * the flags asked for; the run verifies cleanly. Servers that answer 500,
 * 101 or a 103 give a failed cell naming the kind, within the cell's deadline.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { Results } from '../core/results.js';
import { CLI } from './helpers/serve.js';
import { rawServer, testServers } from './helpers/servers.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-target-'));
const { listen } = testServers();
after(() => rmSync(dir, { recursive: true, force: true }));

interface Bench {
  code: number | null;
  ms: number;
  stderr: string;
  results: Results;
}

/** `bench --target` at `port`, a short cell; resolves once the CLI has exited. */
function bench(port: number, out: string, extra: readonly string[]): Promise<Bench> {
  const args = [CLI, 'bench', '--target', `127.0.0.1:${port}`, '--workloads', 'http', '--connections', '4', '--duration', '0.5', '--warmup', '0.2', '--timeout', '2000', '--out', out, ...extra];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      try {
        resolve({ code, ms: performance.now() - t0, stderr, results: JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results });
      } catch (err) {
        reject(new Error(`bench wrote no results.json (exit ${code}): ${stderr}`, { cause: err }));
      }
    });
  });
}

function onlyCell(r: Bench): Results['cells'][number] {
  const [cell, ...rest] = r.results.cells;
  assert.ok(cell !== undefined && rest.length === 0, `expected one cell, got ${r.results.cells.length}: ${r.stderr}`);
  return cell;
}

interface Seen {
  method: string;
  url: string;
  host: string;
  test: string;
  body: string;
}

describe('bench --target: any HTTP/1.1 server', { timeout: 240_000 }, () => {
  test('chunked, Content-Length and Connection: close replies to a custom request all verify', async () => {
    const seen: Seen[] = [];
    const port = await listen(
      http.createServer((req, res) => {
        let body = '';
        req.setEncoding('latin1');
        req.on('data', (d: string) => (body += d));
        req.on('end', () => {
          if (seen.length < 20) seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', test: String(req.headers['x-iomodels-test']), body });
          if (req.url === '/chunked') {
            // No length given: node:http frames it chunked, with a trailer.
            res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Done' });
            res.write('part one, ');
            res.addTrailers({ 'X-Done': 'yes' });
            res.end('part two');
          } else if (req.url === '/length') {
            res.writeHead(201, { 'Content-Length': '5' });
            res.end('hello');
          } else if (req.url === '/close') {
            res.writeHead(200, { Connection: 'close', 'Content-Length': '3' });
            res.end('bye');
          } else {
            res.writeHead(404).end();
          }
        });
      }),
    );
    const bodyFile = path.join(dir, 'body.json');
    writeFileSync(bodyFile, '{"q":"iomodels"}');
    for (const route of ['/chunked', '/length', '/close']) {
      seen.length = 0;
      const r = await bench(port, path.join(dir, route.slice(1)), ['--method', 'PUT', '--path', route, '--header', 'X-Iomodels-Test: on', '--body', bodyFile]);
      const cell = onlyCell(r);
      assert.equal(r.code, 0, `${route}: bench exits 0, got ${r.code}: ${r.stderr}`);
      assert.equal(cell.status, 'ok', `${route}: the cell is ok, got ${cell.status}: ${cell.reason ?? ''}`);
      assert.deepEqual(cell.errors, {}, `${route}: no errors, got ${JSON.stringify(cell.errors)}`);
      assert.ok(cell.ops > 10, `${route}: verified requests, got ${cell.ops}`);
      assert.ok(seen.length > 0, `${route}: the server saw requests`);
      for (const s of seen) {
        assert.deepEqual(s, { method: 'PUT', url: route, host: `127.0.0.1:${port}`, test: 'on', body: '{"q":"iomodels"}' }, `${route}: the server saw the method, path, header, body and the default Host`);
      }
      assert.equal(r.results.plan.expectStatus, '2xx', 'the plan records the default status set');
      assert.deepEqual(r.results.plan.httpRequest?.headers, ['X-Iomodels-Test: on'], 'the plan records the headers');
      const md = readFileSync(path.join(dir, route.slice(1), 'report.md'), 'utf8');
      assert.match(md, new RegExp(`target 127\\.0\\.0\\.1:${port}; http request \`PUT ${route}\` with header \`X-Iomodels-Test: on\`, body \`[^\`]+body\\.json\` \\(16 B\\); target replies verified by status 2xx and framing;`), 'the report’s plan line says what was sent and checked');
    }
  });

  test('--expect-status and --expect-body', async () => {
    const port = await listen(
      http.createServer((_req, res) => {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('nothing here');
      }),
    );
    const expected = path.join(dir, 'expected.txt');
    writeFileSync(expected, 'nothing here');
    const ok = await bench(port, path.join(dir, 'expect-ok'), ['--expect-status', '404', '--expect-body', expected]);
    assert.equal(onlyCell(ok).status, 'ok', `404 was asked for, with its body: ${onlyCell(ok).reason ?? ''}`);
    writeFileSync(expected, 'something else');
    const bad = await bench(port, path.join(dir, 'expect-bad'), ['--expect-status', '4xx', '--expect-body', expected]);
    const cell = onlyCell(bad);
    assert.equal(cell.status, 'failed', 'a body other than the expected one fails the cell');
    assert.match(cell.reason ?? '', /verification failed: \d+ wrong replies \(http body ×\d+\)/, `the reason names the kind, got ${cell.reason ?? ''}`);
  });

  test('500, 101 and 103 give failed cells by kind, within the deadline', async () => {
    const fivehundred = await listen(http.createServer((_req, res) => res.writeHead(500).end('broken')));
    const upgrade = await listen(rawServer('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'));
    const hints = await listen(rawServer('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'));
    for (const [port, kind] of [
      [fivehundred, 'http status 500'],
      [upgrade, 'http upgrade'],
      [hints, 'http 1xx'],
    ] as const) {
      const r = await bench(port, path.join(dir, kind.replace(/ /g, '-')), []);
      const cell = onlyCell(r);
      assert.equal(r.code, 1, `${kind}: bench exits 1 (a cell failed), got ${r.code}: ${r.stderr}`);
      assert.equal(cell.status, 'failed', `${kind}: the cell fails`);
      assert.ok((cell.errors[kind] ?? 0) > 0, `${kind}: counted under its kind, got ${JSON.stringify(cell.errors)}`);
      assert.match(cell.reason ?? '', new RegExp(`verification failed: \\d+ wrong replies \\(${kind} ×\\d+\\)`), `${kind}: the reason names it, got ${cell.reason ?? ''}`);
      // Warm-up and window are 0.7 s; process start-up and teardown are the rest.
      assert.ok(r.ms < 30_000, `${kind}: the run ends on its deadline, took ${Math.round(r.ms)} ms`);
    }
  });
});
