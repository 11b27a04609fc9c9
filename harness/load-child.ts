/**
 * The load child: one process, pinned to the client CPUs, that runs a
 * workload's driver and reports over IPC. Keeping load out of the
 * orchestrator lets the harness sample the two processes apart.
 */
import type { DriverOptions, DriverPhase, DriverResult } from '../workloads/driver.js';
import { getWorkload } from '../workloads/registry.js';

export type LoadRequest = {
  type: 'start';
  workload: string;
  options: Omit<DriverOptions, 'onPhase'>;
};

export type LoadMessage =
  | { type: 'phase'; phase: DriverPhase; atMs: number }
  | { type: 'result'; result: DriverResult }
  | { type: 'error'; message: string };

function send(m: LoadMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(m, undefined, {}, () => resolve());
  });
}

process.once('message', (raw: unknown) => {
  const req = raw as LoadRequest;
  void (async () => {
    try {
      const result = await getWorkload(req.workload).runDriver({
        ...req.options,
        onPhase: (phase, atMs) => void send({ type: 'phase', phase, atMs }),
      });
      await send({ type: 'result', result });
    } catch (err) {
      await send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    }
    process.disconnect();
    process.exit(0);
  })();
});
// The orchestrator died: do not linger.
process.on('disconnect', () => process.exit(0));
