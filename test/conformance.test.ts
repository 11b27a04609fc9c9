/** Every registered strategy × every workload it serves runs the conformance suite. */
import { STRATEGIES, supportsWorkload } from '../strategies/registry.js';
import { WORKLOADS } from '../workloads/protocols.js';
import { strategyTests } from './conformance/suite.js';

for (const s of STRATEGIES) {
  const a = s.availability();
  for (const w of WORKLOADS) {
    if (!supportsWorkload(s, w.name)) continue;
    strategyTests(s.name, w.name, { skip: a.ok ? false : `${s.name} unavailable here: ${a.reason}` });
  }
}
