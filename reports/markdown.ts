/**
 * report.md from results.json: a pure function, so a report can be
 * re-rendered without re-running anything.
 */
import type { Cell, Results } from '../harness/results.js';
import { fmtBytes, fmtCount, fmtRate, fmtUs } from './format.js';

function statusText(c: Cell): string {
  const flags = [c.status === 'ok' ? 'ok' : `**${c.status}**`];
  if (c.clientBound) flags.push('client-bound');
  if (c.server.killed) flags.push('killed');
  return flags.join(', ');
}

function errorsText(errors: Record<string, number>): string {
  const parts = Object.entries(errors).map(([k, v]) => `${k} ×${v}`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

/** Open loop: achieved rate against the target, e.g. "98% of 2.00k". */
function rateText(c: Cell): string {
  if (c.targetRate === undefined || c.targetRate <= 0) return '–';
  return `${Math.round((c.achievedRatio ?? c.opsPerSec / c.targetRate) * 100)}% of ${fmtRate(c.targetRate)}`;
}

export function renderCellTable(cells: readonly Cell[]): string {
  // The achieved-rate column only exists for open-loop runs.
  const open = cells.some((c) => c.targetRate !== undefined && c.targetRate > 0);
  const head =
    `| strategy | workload | conns | est. | ops/s |${open ? ' achieved/target |' : ''} p50 | p99 | server CPU µs/op | server CPU % | RSS | threads | client CPU % | errors | status |\n` +
    `| --- | --- | ---: | ---: | ---: |${open ? ' ---: |' : ''} ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n`;
  const rows = cells.map(
    (c) =>
      `| ${c.strategy} | ${c.workload} | ${fmtCount(c.connections)} | ${fmtCount(c.established)} | ${fmtRate(c.opsPerSec)} | ${open ? `${rateText(c)} | ` : ''}` +
      `${fmtUs(c.latencyUs.p50)} | ${fmtUs(c.latencyUs.p99)} | ${c.server.cpuUsPerOp.toFixed(1)} | ` +
      `${c.server.cpuPercent.toFixed(0)} | ${fmtBytes(c.server.peakRssBytes)} | ${c.server.peakThreads} | ` +
      `${c.client.cpuPercent.toFixed(0)} | ${errorsText(c.errors)} | ${statusText(c)} |`,
  );
  return head + rows.join('\n') + '\n';
}

export function renderReport(results: Results): string {
  const m = results.machine;
  const p = results.plan;
  const lines: string[] = [];
  lines.push('# iomodels report', '');
  if (!results.complete) lines.push('> **Incomplete run**: interrupted; the cells below are those that finished.', '');
  lines.push(
    `Run ${results.startedAt} → ${results.finishedAt}, iomodels ${results.tool.version}.`,
    '',
    `**Machine:** ${m.cores}× ${m.cpuModel}; ${m.kernel}; Node ${m.node}; ulimit -n ${m.ulimitN}; ${fmtBytes(m.totalMemBytes)} RAM.`,
    '',
    `**Plan:** strategies ${p.strategies.join(', ')}; workloads ${p.workloads.join(', ')}; connections ${p.connections.join(', ')}; ` +
      `${p.durationSec} s measured after ${p.warmupSec} s warm-up; ${p.repeat} repetition(s); ` +
      `${p.rate > 0 ? `open loop at ${p.rate} ops/s` : 'closed loop'}; server on CPU ${p.serverCpus || 'any'}, load on CPU ${p.clientCpus || 'any'}.`,
    '',
  );
  lines.push('## Cells', '', renderCellTable(results.cells));
  const special = results.cells.filter((c) => c.status !== 'ok' || c.clientBound || c.server.killed);
  if (special.length > 0) {
    lines.push('## Caps and faults', '');
    for (const c of special) {
      const what = [c.reason ?? '', c.clientBound ? `load child at ${c.client.cpuPercent.toFixed(0)}% CPU: the numbers are a floor for the server` : '']
        .filter((s) => s !== '')
        .join('; ');
      lines.push(`- **${c.strategy} × ${c.workload} × ${c.connections}** (rep ${c.rep}): ${c.status} — ${what}`);
    }
    lines.push('');
  }
  lines.push(
    '## What the numbers mean',
    '',
    '- **ops/s**: verified operations (echo round trips) completed in the measured window, divided by its length.',
    ...(p.rate > 0
      ? [
          '- **achieved/target** (open loop): ops/s as a share of the scheduled rate; well below 100% means the server (or a client-bound load child) could not keep up, and the latencies, timed from each message\'s scheduled send time, include the backlog.',
        ]
      : []),
    '- **p50/p99**: HDR-histogram latency percentiles of one operation, from send to the last byte of its verified reply (µs resolution).',
    '- **server CPU µs/op**: user + system CPU of the server process over the window, divided by ops; lower is more efficient.',
    '- **client CPU %**: the load child\'s CPU; at ≥ 90% of a core the cell is *client-bound* and measures the driver, not the server.',
    '- **est.**: connections alive when the window opened; fewer than requested means the server refused some (see caps).',
    '',
  );
  return lines.join('\n');
}
