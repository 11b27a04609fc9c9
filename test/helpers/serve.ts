/** Start `iomodels serve` as a child process for tests, and stop it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseListening, parseStats } from '../../harness/serve.js';

export const CLI = fileURLToPath(new URL('../../harness/cli.js', import.meta.url));

export interface ServedProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  stderr(): string;
  /** SIGTERM and wait; resolves with exit info and the server's stats line. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; stats: Record<string, number> }>;
}

/** readyMs: how long to wait for the ready line (a prestarting server takes longer). */
export async function startServe(strategy: string, workload: string, extra: string[] = [], readyMs = 10_000): Promise<ServedProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--strategy', strategy, '--workload', workload, '--port', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (err += d));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve ${strategy}/${workload} not ready in ${readyMs / 1000} s: ${err}`)), readyMs);
    child.stdout.on('data', (d: string) => {
      out += d;
      // Whole lines only: a chunk can end mid-line.
      const port = parseListening(out.slice(0, out.lastIndexOf('\n') + 1));
      if (port !== undefined) {
        clearTimeout(timer);
        resolve(port);
      }
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`serve ${strategy}/${workload} exited (${code ?? sig}) before ready: ${err}`));
    });
  });
  return {
    child,
    pid: child.pid ?? -1,
    port,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const t0 = performance.now();
      if (child.exitCode !== null || child.signalCode !== null) {
        return { code: child.exitCode, signal: child.signalCode, ms: 0, stats: parseStats(out) };
      }
      const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, sig) => resolve({ code, signal: sig })),
      );
      child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const r = await done;
      clearTimeout(killer);
      return { ...r, ms: performance.now() - t0, stats: parseStats(out) };
    },
  };
}
