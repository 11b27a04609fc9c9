/**
 * A real HTTP server to point `bench --target` at: Debian's nginx
 * (`apt-get install -y nginx-light`) serving the seed's page as a static
 * file, from a config written into a temp dir, on a free loopback port,
 * pinned to one CPU. It prints the bench command (and a wrk one, to compare
 * load generators on the same server) and runs until Ctrl-C, then stops
 * nginx and removes the dir. For benchmarks by hand; no test needs it.
 *
 * One process (`master_process off`): --target-pid then covers all of
 * nginx's CPU. keepalive_requests stays at nginx's default (1000), so the
 * driver's reconnect after `Connection: close` is part of every run.
 *
 *   node dist/scripts/nginx-target.js [--cpu 0] [--port 0] [--workers 1]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PAGE_BYTES } from '../workloads/http/page.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}

function fail(message: string): never {
  process.stderr.write(`nginx-target: ${message}\n`);
  process.exit(2);
}

function nginxBinary(): string {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) {
    if (spawnSync(p, ['-v']).status === 0) return p;
  }
  if (spawnSync('nginx', ['-v']).status === 0) return 'nginx';
  return fail('no nginx found: apt-get install -y nginx-light (wrk too, to compare)');
}

/** A port nothing listens on right now (another process could take it before nginx does; rare on loopback). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function accepting(port: number, deadlineMs: number): Promise<boolean> {
  const until = performance.now() + deadlineMs;
  while (performance.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect({ host: '127.0.0.1', port }, () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

const cpu = arg('cpu', '0');
const workers = arg('workers', '1');
if (!/^\d+$/.test(cpu) || Number(cpu) >= os.cpus().length) fail(`--cpu ${cpu}: this machine has CPUs 0-${os.cpus().length - 1}`);
if (!/^[1-9]\d*$/.test(workers)) fail(`--workers must be a positive integer, got "${workers}"`);
const bin = nginxBinary();
const askedPort = Number(arg('port', '0'));
const port = askedPort > 0 ? askedPort : await freePort();

const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-nginx-'));
const www = path.join(dir, 'www');
mkdirSync(www);
mkdirSync(path.join(dir, 'tmp'));
const page = path.join(www, 'index.html');
writeFileSync(page, PAGE_BYTES);
const single = workers === '1';
writeFileSync(
  path.join(dir, 'nginx.conf'),
  [
    'daemon off;',
    // One worker runs as one process, so --target-pid sees all of its CPU.
    single ? 'master_process off;' : `worker_processes ${workers};`,
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 16384; }',
    'http {',
    '  access_log off;',
    `  client_body_temp_path ${dir}/tmp/body;`,
    `  proxy_temp_path ${dir}/tmp/proxy;`,
    `  fastcgi_temp_path ${dir}/tmp/fastcgi;`,
    `  uwsgi_temp_path ${dir}/tmp/uwsgi;`,
    `  scgi_temp_path ${dir}/tmp/scgi;`,
    '  default_type text/html;',
    `  server { listen 127.0.0.1:${port}; root ${www}; location / { } }`,
    '}',
    '',
  ].join('\n'),
);

const child = spawn('taskset', ['-c', cpu, bin, '-p', dir, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`], { stdio: ['ignore', 'inherit', 'inherit'] });
const cleanup = (): void => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
};
child.once('exit', (code, signal) => {
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`nginx exited (${signal ?? code ?? '?'})\n`);
  process.exit(code === 0 || signal === 'SIGTERM' ? 0 : 1);
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, cleanup);

if (!(await accepting(port, 5000))) {
  cleanup();
  fail(`nginx did not accept on 127.0.0.1:${port} within 5 s (see the lines above)`);
}
const target = `127.0.0.1:${port}`;
const pid = single ? ` --target-pid ${child.pid ?? ''}` : '';
process.stdout.write(
  `nginx ${single ? '(one process)' : `(${workers} workers)`} on ${target}, CPU ${cpu}, serving ${page}\n` +
    `  npx iomodels bench --target ${target}${pid} --workloads http --path /index.html --expect-body ${page} --connections 100\n` +
    `  taskset -c 1 wrk -t1 -c100 -d3s http://${target}/index.html\n` +
    `Ctrl-C stops it.\n`,
);
