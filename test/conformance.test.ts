/**
 * Every registered strategy × every workload it serves runs the conformance
 * suite; echo and chat run it a second time against a server whose sockets
 * have a 4 KiB send buffer, so every large reply meets a short send() and
 * EAGAIN, and a strategy that drops the unsent tail fails here (not only in
 * the serial 64 MiB test).
 */
import { STRATEGIES, supportsWorkload } from '../strategies/registry.js';
import { WORKLOADS } from '../workloads/protocols.js';
import { strategyTests } from './conformance/suite.js';

/** The workloads whose replies can outgrow a send buffer (http's page is 243 B). */
const SHORT_WRITES: readonly string[] = ['echo', 'chat'];

for (const s of STRATEGIES) {
  const a = s.availability();
  for (const w of WORKLOADS) {
    if (!supportsWorkload(s, w.name)) continue;
    const skip = a.ok ? false : `${s.name} unavailable here: ${a.reason}`;
    strategyTests(s.name, w.name, { skip });
    if (SHORT_WRITES.includes(w.name)) strategyTests(s.name, w.name, { skip, serveArgs: ['--sndbuf', '4096'], label: 'sndbuf 4096: short writes' });
  }
}
