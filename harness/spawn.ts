/** Spawning children pinned to CPUs, with taskset when it exists. */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';

let tasksetPath: string | null | undefined;

function findTaskset(): string | null {
  if (tasksetPath !== undefined) return tasksetPath;
  const r = spawnSync('sh', ['-c', 'command -v taskset'], { encoding: 'utf8' });
  tasksetPath = r.status === 0 ? r.stdout.trim() : null;
  return tasksetPath;
}

/** Children alive right now, so Ctrl-C can stop every one of them. */
export const liveChildren = new Set<ChildProcess>();

/** Spawn `node args…`, pinned to `cpus` ("0", "1-3") when given and possible. */
export function spawnNode(args: string[], cpus: string, options: SpawnOptions): ChildProcess {
  const ts = cpus === '' ? null : findTaskset();
  const child =
    ts === null ? spawn(process.execPath, args, options) : spawn(ts, ['-c', cpus, process.execPath, ...args], options);
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

/** SIGKILL every child we started (used on Ctrl-C, after they got SIGTERM). */
export async function stopAllChildren(graceMs: number): Promise<void> {
  await Promise.all([...liveChildren].map((c) => stopChild(c, graceMs)));
}

/** Resolve when the child exits, with its code and signal. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Stop a child: SIGTERM, then SIGKILL after `graceMs`. Returns whether SIGKILL was needed. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return false;
  const done = exited(child);
  child.kill('SIGTERM');
  // A stopped (SIGSTOP) child cannot act on SIGTERM until it runs again.
  child.kill('SIGCONT');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    done.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill('SIGKILL');
    await done;
  }
  return timedOut;
}
