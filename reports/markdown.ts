/**
 * report.md from results.json: a pure function, so a report can be
 * re-rendered without re-running anything. The charts it embeds are named
 * by planCharts (same inputs, same file names); writeReport draws them.
 */
import type { Cell, FileRef, Plan, Results } from '../core/results.js';
import { baseIdle, groupCells, groupEstimate, idleOf, idleSweeps, type CellGroup } from './aggregate.js';
import { planCharts, workloadsOf, type ChartSpec } from './charts.js';
import { fmtBytes, fmtCount, fmtCpuPerOp, fmtIdle, fmtRate, fmtUs, opUnitOf } from './format.js';
import { renderMicroSection } from './micro.js';
import { metricEstimate, rankGroups, serverCpuPerOp, type Ranking } from './verdict.js';
import { tableResolution } from './stats.js';
import { ANATOMY_INTRO, anatomyRows, anatomySettings, describeRow, findings, renderAnatomyTable, settingText } from './anatomy.js';
import { planAnatomyCharts, type BarChartSpec } from './anatomy-charts.js';

export interface ReportOptions {
  /**
   * Charts to embed: the default plans them from the results; `false` leaves
   * them out (a report written while the run is still going).
   */
  charts?: readonly ChartSpec[] | false;
  /** File name of the drawn micro-benchmark chart, when results carry a micro section. */
  microChart?: string;
  /** The anatomy's bar charts to embed: the default plans them; `false` leaves them out. */
  anatomyCharts?: readonly BarChartSpec[] | false;
}

/**
 * *Anatomy of one operation* for one workload: per setting (a connection
 * count, the ends of an idle sweep) the table, its charts, and each
 * strategy's op told in the tutorial's two phases.
 */
export function renderAnatomySection(results: Results, workload: string, charts: readonly BarChartSpec[]): string[] {
  const settings = anatomySettings(results, workload);
  if (settings.length === 0) return [];
  const unit = opUnitOf(results, workload);
  const lines = ['### Anatomy of one operation', '', ANATOMY_INTRO, ''];
  for (const s of settings) {
    const rows = anatomyRows(results, workload, s);
    if (rows.length === 0) continue;
    lines.push(`#### ${settingText(s).replace(/^at /, 'At ')}`, '', renderAnatomyTable(rows));
    for (const c of charts.filter((x) => x.workload === workload && x.setting.connections === s.connections && x.setting.idle === s.idle)) {
      lines.push(`![${c.workload} ${c.kind}](${c.file})`, '', `*${c.caption}*`, '');
    }
    lines.push(...rows.filter((r) => r.group.status !== 'failed').map((r) => `- ${describeRow(r, unit)}`), '');
  }
  const notes = [...new Set(results.cells.filter((c) => c.workload === workload).flatMap((c) => (c.server.anatomy?.note === undefined ? [] : [c.server.anatomy.note])))];
  if (notes.length > 0) lines.push(`Counted from /proc, not perf: ${notes.join('; ')}.`, '');
  return lines;
}

/** The reference every ratio is taken against: Node's own event loop. */
const REFERENCE = 'libuv';

/** How every verdict column decides (reports/verdict.ts), said once per table. */
const VERDICT_RULES =
  '*Verdict*: a strategy is bold only when its 95% interval lies clear of every other\'s; overlapping intervals are printed as a tie, ' +
  'and one repetition names no winner. A row with a client-bound cell is ranked by server CPU per op (lower is better), ' +
  'since its throughput measured the load generator. Capped and failed cells are not ranked.';

/**
 * What a table can tell apart, from its own repetitions (reports/stats.ts
 * tableResolution): a difference between strategies smaller than this may
 * be noise, whatever the medians say.
 */
function resolutionLine(groups: readonly CellGroup[], metric: 'throughput' | 'cpu'): string {
  const ok = groups.filter((g) => g.status !== 'failed');
  const what = metric === 'cpu' ? 'server CPU per op' : 'throughput';
  const reps = Math.max(0, ...ok.map((g) => g.usable.length));
  if (reps < 2) return `*Resolution*: one repetition per cell, so this table cannot say which differences are noise (run bench with --repeat 3 or more).\n`;
  const r = tableResolution(
    ok.map((g) => g.usable.map((c) => (metric === 'cpu' ? serverCpuPerOp(c) ?? Number.NaN : c.opsPerSec))),
  );
  if (r === undefined) return '';
  return `*Resolution*: from ${r.reps} repetitions per cell, this table tells strategies apart by ${what} only when they differ by more than ±${(r.ratio * 100).toFixed(0)}% (95%, the spread of its repetitions pooled over its cells).\n`;
}

/** Marks used in tables; the same meanings as the chart markers. */
const MARK = { failed: '✕ failed', capped: '▲', clientBound: '○' } as const;

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

/** The load drivers that produced the numbers, per workload ("echo: selector:epoll"). */
function driversText(results: Results): string {
  const byWorkload = new Map<string, Set<string>>();
  for (const c of results.cells) {
    if (c.client.driver === 'none') continue;
    const set = byWorkload.get(c.workload) ?? new Set<string>();
    set.add(c.client.driver);
    byWorkload.set(c.workload, set);
  }
  if (byWorkload.size === 0) return 'none ran';
  return [...byWorkload].map(([w, d]) => `${w}: ${[...d].join(', ')}`).join('; ');
}

/** A plan file on the plan line: its path and size (the hash is in results.json). */
function fileText(f: FileRef): string {
  return `${code(f.file)} (${fmtBytes(f.bytes)})`;
}

/** A code span that survives any text: backticks cannot close it early. */
function code(s: string): string {
  return `\`${s.replace(/`/g, "'")}\``;
}

/**
 * The target and the http request and checks, when the run had any:
 * "target 127.0.0.1:8080; http request POST /api with header `X-A: 1`, body `/tmp/b.json` (8 B); …".
 */
function httpPlanText(p: Plan): string {
  const parts: string[] = [];
  if (p.target !== undefined) parts.push(`target ${p.target}`);
  const r = p.httpRequest;
  if (r !== undefined) {
    const headers = r.headers.length === 0 ? '' : ` with ${r.headers.length === 1 ? 'header' : 'headers'} ${r.headers.map(code).join(', ')}`;
    parts.push(`http request ${code(`${r.method} ${r.path}`)}${headers}${r.body === undefined ? '' : `, body ${fileText(r.body)}`}`);
  }
  if (p.expectStatus !== undefined) {
    parts.push(`target replies verified by status ${p.expectStatus} and framing${p.expectBody === undefined ? '' : `, body equal to ${fileText(p.expectBody)}`}`);
  }
  return parts.map((t) => `${t}; `).join('');
}

/** Idle connections asked for, with what became of them when some did not last: "10,000 (est. 10,000, open 1,021)". */
function idleText(c: Cell): string {
  const idle = idleOf(c);
  const est = c.idleEstablished ?? idle;
  const open = c.idleOpen ?? est;
  if (idle === 0 || (est >= idle && open >= idle)) return fmtCount(idle);
  return `${fmtCount(idle)} (est. ${fmtCount(est)}, open ${fmtCount(open)})`;
}

export function renderCellTable(cells: readonly Cell[]): string {
  // The achieved-rate column only exists for open-loop runs, the idle column for runs with idle connections.
  const open = cells.some((c) => c.targetRate !== undefined && c.targetRate > 0);
  const idle = cells.some((c) => idleOf(c) > 0);
  const head =
    `| strategy | workload | conns |${idle ? ' idle |' : ''} rep | est. | ops/s |${open ? ' achieved/target |' : ''} p50 | p99 | server CPU µs/op | server CPU % | RSS | threads | client CPU % | errors | status |\n` +
    `| --- | --- | ---: |${idle ? ' ---: |' : ''} ---: | ---: | ---: |${open ? ' ---: |' : ''} ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |\n`;
  const rows = cells.map(
    (c) =>
      `| ${c.strategy} | ${c.workload} | ${fmtCount(c.connections)} |${idle ? ` ${idleText(c)} |` : ''} ${c.rep} | ${fmtCount(c.established)} | ${fmtRate(c.opsPerSec)} | ${open ? `${rateText(c)} | ` : ''}` +
      `${perOp(c, fmtUs(c.latencyUs.p50))} | ${perOp(c, fmtUs(c.latencyUs.p99))} | ${perOp(c, c.server.cpuUsPerOp.toFixed(1))} | ` +
      `${c.server.cpuPercent.toFixed(0)} | ${fmtBytes(c.server.peakRssBytes)} | ${c.server.peakThreads} | ` +
      `${clientCpuText(c)} | ${errorsText(c.errors)} | ${statusText(c)} |`,
  );
  return head + rows.join('\n') + '\n';
}

/** A per-operation figure, or '–' for a cell that completed no operation (a 0 there would read as a measurement). */
function perOp(c: Cell, text: string): string {
  return c.ops > 0 ? text : '–';
}

/** The load child's CPU, and each load thread's when there were several ("96 (48 + 48)"). */
function clientCpuText(c: Cell): string {
  const t = c.client.threads ?? [];
  const per = t.length > 1 && t.every((x) => x.cpuPercent !== undefined) ? ` (${t.map((x) => (x.cpuPercent ?? 0).toFixed(0)).join(' + ')})` : '';
  return `${c.client.cpuPercent.toFixed(0)}${per}`;
}

function marks(g: CellGroup): string {
  return `${g.status === 'capped' ? ` ${MARK.capped}` : ''}${g.clientBound ? ` ${MARK.clientBound}` : ''}`;
}

/** A workload's groups at its base idle count (baseIdle): what the per-connection tables show. */
function perConnectionGroups(results: Results, workload: string): CellGroup[] {
  const mine = groupCells(results.cells).filter((g) => g.workload === workload);
  const idle = baseIdle(mine);
  return mine.filter((g) => g.idle === idle);
}

function strategiesOf(results: Results, groups: readonly CellGroup[]): string[] {
  const present = new Set(groups.map((g) => g.strategy));
  return [...results.plan.strategies.filter((s) => present.has(s)), ...[...present].filter((s) => !results.plan.strategies.includes(s)).sort()];
}

/** A row's verdict (reports/verdict.ts) as table text: bold only for a clear leader. */
export function rankingText(r: Ranking): string {
  switch (r.kind) {
    case 'none':
      return r.why === 'nothing measured' ? '–' : `no winner: ${r.why}`;
    case 'alone':
      return `only ${r.group.strategy} ranked`;
    case 'winner': {
      const { group, est } = r.leader;
      return r.metric === 'cpu' ? `**${group.strategy}** ${fmtCpuPerOp(est.median)} (${BY_CPU})` : `**${group.strategy}** ${fmtRate(est.median)}`;
    }
    case 'tie':
      return `tie: ${r.tied.map((t) => t.group.strategy).join(', ')}${r.metric === 'cpu' ? ` (${BY_CPU})` : ''}`;
  }
}

/** How a row ranked by CPU says so. */
const BY_CPU = 'client-bound: by server CPU/op';

/**
 * A strategy against the reference, in brackets: the throughput ratio, or,
 * when either cell is client-bound (its throughput measured the load
 * generator), how much less or more server CPU per op it spent.
 */
function ratioText(g: CellGroup, ref: CellGroup | undefined): string {
  if (ref === undefined || ref.status === 'failed') return '';
  if (g === ref) return ' (1.00×)';
  if (g.clientBound || ref.clientBound) {
    const mine = metricEstimate(g, 'cpu').median;
    const theirs = metricEstimate(ref, 'cpu').median;
    if (!(mine > 0 && theirs > 0)) return '';
    const r = theirs / mine;
    return r >= 1 ? ` (${r.toFixed(2)}× less CPU/op)` : ` (${(1 / r).toFixed(2)}× more CPU/op)`;
  }
  const v = metricEstimate(g, 'throughput').median;
  const rv = metricEstimate(ref, 'throughput').median;
  return rv > 0 ? ` (${(v / rv).toFixed(2)}×)` : '';
}

/**
 * Per connection count: every strategy's median throughput with its ratio
 * to libuv, and the row's verdict (reports/verdict.ts).
 */
export function renderSummaryTable(results: Results, workload: string): string {
  const groups = perConnectionGroups(results, workload);
  const strategies = strategiesOf(results, groups);
  const connections = [...new Set(groups.map((g) => g.connections))].sort((a, b) => a - b);
  const lines: string[] = [];
  lines.push(`| connections | verdict | ${strategies.join(' | ')} |`);
  lines.push(`| ---: | --- | ${strategies.map(() => '---:').join(' | ')} |`);
  for (const n of connections) {
    const row = groups.filter((g) => g.connections === n);
    const at = (s: string): CellGroup | undefined => row.find((g) => g.strategy === s);
    const ref = at(REFERENCE);
    const cols = strategies.map((s) => {
      const g = at(s);
      if (g === undefined) return '–';
      if (g.status === 'failed') return MARK.failed;
      return `${fmtRate(metricEstimate(g, 'throughput').median)}${ratioText(g, ref)}${marks(g)}`;
    });
    lines.push(`| ${fmtCount(n)} | ${rankingText(rankGroups(row))} | ${cols.join(' | ')} |`);
  }
  return lines.join('\n') + '\n\n' + resolutionLine(groups, 'throughput');
}

/** p50 / p99 per strategy and connection count (median over repetitions). */
export function renderLatencyTable(results: Results, workload: string): string {
  const groups = perConnectionGroups(results, workload);
  const strategies = strategiesOf(results, groups);
  const connections = [...new Set(groups.map((g) => g.connections))].sort((a, b) => a - b);
  const lines = [`| connections | ${strategies.map((s) => `${s} p50 / p99`).join(' | ')} |`, `| ---: | ${strategies.map(() => '---:').join(' | ')} |`];
  for (const n of connections) {
    const cols = strategies.map((s) => {
      const g = groups.find((x) => x.strategy === s && x.connections === n);
      if (g === undefined) return '–';
      if (g.status === 'failed') return MARK.failed;
      const p50 = groupEstimate(g, (c) => (c.latencyUs.count > 0 ? c.latencyUs.p50 : undefined)).median;
      const p99 = groupEstimate(g, (c) => (c.latencyUs.count > 0 ? c.latencyUs.p99 : undefined)).median;
      return `${fmtUs(p50)} / ${fmtUs(p99)}${marks(g)}`;
    });
    lines.push(`| ${fmtCount(n)} | ${cols.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Per active-connection count swept over idle connections: one row per
 * (connections, idle), every strategy's median ops/s and server CPU per op,
 * and the row's verdict. Undefined when the workload has no such sweep.
 */
export function renderIdleTable(results: Results, workload: string): string | undefined {
  const groups = groupCells(results.cells).filter((g) => g.workload === workload);
  const sweeps = idleSweeps(groups);
  if (sweeps.length === 0) return undefined;
  const strategies = strategiesOf(results, groups);
  const lines = [`| connections | idle | verdict | ${strategies.join(' | ')} |`, `| ---: | ---: | --- | ${strategies.map(() => '---:').join(' | ')} |`];
  for (const { connections, idle } of sweeps) {
    for (const n of idle) {
      const row = groups.filter((g) => g.connections === connections && g.idle === n);
      const cols = strategies.map((s) => {
        const g = row.find((x) => x.strategy === s);
        if (g === undefined) return '–';
        if (g.status === 'failed') return MARK.failed;
        return `${fmtRate(metricEstimate(g, 'throughput').median)} · ${fmtCpuPerOp(metricEstimate(g, 'cpu').median)}${marks(g)}`;
      });
      lines.push(`| ${fmtCount(connections)} | ${fmtCount(n)} | ${rankingText(rankGroups(row))} | ${cols.join(' | ')} |`);
    }
  }
  const swept = groups.filter((g) => sweeps.some((w) => w.connections === g.connections && w.idle.includes(g.idle)));
  return lines.join('\n') + '\n\n' + resolutionLine(swept, 'cpu');
}

/**
 * What each IO model predicts idle connections cost, in the seed's terms.
 * The table beside it shows what was measured; this text states no figures.
 */
const IDLE_MODEL =
  'Each row holds the same active load with more idle connections open beside it: silent sockets the server must still watch. ' +
  'The models predict who pays for them. select and poll hand the kernel every watched fd on every call and it scans them all, so their CPU per op should grow with the idle count, ' +
  'and select refuses fds ≥ 1024 (FD_SETSIZE), so it is capped once active and idle connections pass that; ' +
  'sigio\'s drain tries every socket on each signal and busypoll retries every fd, so they should grow too. ' +
  'epoll is handed only the ready fds (the kernel\'s ready list) and io_uring delivers completions only for operations that are ready, so they should stay flat, and libuv with them, being epoll underneath; ' +
  'blocking spends a thread per connection, so idle connections hold threads of its pool, and past the pool the load is capped.';

/** Blocking's start-up (threads started before the load): per strategy × workload × connections, medians over repetitions. */
export function renderStartupTable(results: Results): string | undefined {
  const groups = groupCells(results.cells).filter((g) => g.usable.some((c) => c.server.startup !== undefined));
  if (groups.length === 0) return undefined;
  const lines = ['| strategy | workload | connections | threads started | start-up ms | warm-up held ms |', '| --- | --- | ---: | ---: | ---: | ---: |'];
  const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(v >= 100 ? 0 : 1) : '–');
  for (const g of groups) {
    const est = (f: (c: Cell) => number | undefined): number => groupEstimate(g, f).median;
    const threads = est((c) => c.server.startup?.threads);
    lines.push(
      `| ${g.strategy} | ${g.workload} | ${fmtCount(g.connections)}${fmtIdle(g.idle)} | ${Number.isFinite(threads) ? fmtCount(Math.round(threads)) : '–'} | ` +
        `${ms(est((c) => c.server.startup?.ms))} | ${ms(est((c) => c.server.startup?.warmupHeldMs))} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/** "S × W × N", with " (+M idle)" when the cell held idle connections. */
function cellName(c: Cell): string {
  return `${c.strategy} × ${c.workload} × ${fmtCount(c.connections)}${fmtIdle(idleOf(c))}`;
}

/** "; idle connections: 10,000 asked, 10,000 established, 1,021 still open" for a cell that had them. */
function idleCounts(c: Cell): string {
  const idle = idleOf(c);
  if (idle === 0) return '';
  const est = c.idleEstablished === undefined ? '' : `, ${fmtCount(c.idleEstablished)} established`;
  const open = c.idleOpen === undefined ? '' : `, ${fmtCount(c.idleOpen)} still open when the window closed`;
  return `; idle connections: ${fmtCount(idle)} asked${est}${open}`;
}

/** "**S × W × N** (rep R): status — reason; what it means for the numbers." */
function specialLine(c: Cell): string {
  const head = `- **${cellName(c)}** (rep ${c.rep}): ${c.status}`;
  const why: string[] = [];
  if (c.reason !== undefined && c.reason !== '') why.push(c.reason);
  if (c.status === 'failed') why.push('no trustworthy measurement: left out of the tables and drawn as ✕ at the bottom of the charts');
  if (c.status === 'capped') {
    why.push(`measured, but the server refused part of the load by design (${fmtCount(c.established)} of ${fmtCount(c.connections)} connections established${idleCounts(c)}); drawn as ${MARK.capped}`);
  }
  if (c.clientBound) why.push(`client-bound: load child at ${c.client.cpuPercent.toFixed(0)}% CPU, so the numbers measure the load generator and are a floor for the server; drawn hollow ${MARK.clientBound}`);
  if (c.server.killed) why.push('the server ignored SIGTERM and was killed: a fault in its shutdown path');
  return `${head} — ${why.join('; ')}.`;
}

export function renderReport(results: Results, opts: ReportOptions = {}): string {
  const charts = opts.charts === false ? [] : (opts.charts ?? planCharts(results));
  const bars = opts.charts === false || opts.anatomyCharts === false ? [] : (opts.anatomyCharts ?? planAnatomyCharts(results));
  const m = results.machine;
  const p = results.plan;
  const lines: string[] = [];
  lines.push('# iomodels report', '');
  if (!results.complete) lines.push('> **Incomplete run**: interrupted or still running; the cells below are those that finished.', '');
  const found = findings(results, workloadsOf(results));
  if (found.length > 0) {
    lines.push('**Findings** (each from this run\'s data, and stated only where its intervals hold it up):', '', ...found.map((f) => `- ${f}`), '');
  }
  lines.push(
    `Run ${results.startedAt} → ${results.finishedAt}, iomodels ${results.tool.version}.`,
    '',
    `**Machine:** ${m.cores}× ${m.cpuModel}; ${m.kernel}; Node ${m.node}; ulimit -n ${m.ulimitN}; ${fmtBytes(m.totalMemBytes)} RAM.`,
    '',
    `**Plan:** ${p.profile === undefined ? '' : `profile ${p.profile}; `}strategies ${p.strategies.join(', ')}; workloads ${p.workloads.join(', ')}; connections ${p.connections.join(', ')}; ` +
      (p.idle !== undefined && p.idle.some((n) => n > 0) ? `idle connections ${p.idle.join(', ')}; ` : '') +
      `${p.durationSec} s measured after ${p.warmupSec} s warm-up; ${p.repeat} repetition(s); ` +
      `${p.rate > 0 ? `open loop at ${p.rate} ops/s` : 'closed loop'}; server on CPU ${p.serverCpus || 'any'}, load on CPU ${p.clientCpus || 'any'}${p.loadThreads !== undefined ? ` in ${p.loadThreads} load thread(s)` : ''}; ` +
      httpPlanText(p) +
      `load drivers: ${driversText(results)}.`,
    '',
  );

  for (const workload of workloadsOf(results)) {
    const unit = opUnitOf(results, workload);
    const hasRef = results.cells.some((c) => c.workload === workload && c.strategy === REFERENCE);
    const idle = baseIdle(groupCells(results.cells).filter((g) => g.workload === workload));
    lines.push(`## ${workload}`, '');
    if (idle > 0) lines.push(`Every cell below held ${fmtCount(idle)} idle connections beside its active ones (the fewest this run measured).`, '');
    lines.push(
      `### Throughput (${unit}s/s)`,
      '',
      `Median over repetitions${
        hasRef
          ? `; in brackets, the ratio to ${REFERENCE} at the same connection count: of throughput when neither cell is client-bound; ` +
            `when either is, its throughput measured the load generator, so the bracket compares server CPU per op instead ` +
            `(\`1.40× less CPU/op\`: ${REFERENCE} spent 1.40 times this strategy's CPU per op)`
          : ` (no ${REFERENCE} cells, so no ratios)`
      }. ${MARK.capped} capped, ${MARK.clientBound} client-bound, ${MARK.failed}: see *Caps and faults*.`,
      '',
      VERDICT_RULES,
      '',
      renderSummaryTable(results, workload),
      '### Latency (p50 / p99)',
      '',
      renderLatencyTable(results, workload),
    );
    const mine = charts.filter((c) => c.workload === workload);
    const isIdle = (c: ChartSpec): boolean => c.kind === 'idle-throughput' || c.kind === 'idle-cpu';
    const embed = (c: ChartSpec): string[] => [`![${c.workload} ${c.kind}](${c.file})`, '', `*${c.caption}*`, ''];
    if (mine.some((c) => !isIdle(c))) lines.push('### Charts', '', ...mine.filter((c) => !isIdle(c)).flatMap(embed));
    const idleTable = renderIdleTable(results, workload);
    if (idleTable !== undefined) {
      lines.push(
        '### Idle connections',
        '',
        `Median ops/s · server CPU µs per ${unit} over repetitions, at each active connection count measured with more than one idle count. ` +
          `${MARK.capped} capped (the server refused or closed idle connections: see *Caps and faults*), ${MARK.clientBound} client-bound, ${MARK.failed}.`,
        '',
        IDLE_MODEL,
        '',
        VERDICT_RULES,
        '',
        idleTable,
        ...mine.filter(isIdle).flatMap(embed),
      );
    }
    lines.push(...renderAnatomySection(results, workload, bars));
  }
  const startup = renderStartupTable(results);
  if (startup !== undefined) {
    lines.push(
      '## Start-up',
      '',
      'A strategy with a start-up phase does it after listening and before the load starts (blocking: one thread per connection, up to `--max-threads`); ' +
        'its cost is reported here, outside the measured window, and the warm-up is held until every active connection is served. ' +
        'For thread-per-connection this is a real cost of the model, paid before the first byte is served.',
      '',
      startup,
    );
  }

  const special = results.cells.filter((c) => c.status !== 'ok' || c.clientBound || c.server.killed);
  lines.push('## Caps and faults', '');
  if (results.cells.length === 0) lines.push('No cell finished, so there is nothing to chart.', '');
  else if (special.length === 0) lines.push('None: every cell was measured as asked, and no load child was saturated.', '');
  else lines.push(...special.map(specialLine), '');

  lines.push('## Cells', '', renderCellTable(results.cells));
  if (results.micro !== undefined) lines.push(renderMicroSection(results.micro, opts.microChart));
  lines.push(
    '## What the numbers mean',
    '',
    '- **ops/s**: verified operations completed in the measured window, divided by its length: echo round trips, http requests, chat messages (one op = one message delivered to every client).',
    '- **median, 95% CI**: a cell is repeated `repeat` times, interleaved across strategies; tables and charts show the median of the repetitions, error bars a 95% percentile-bootstrap interval of that median (with fewer than about 5 repetitions it spans roughly the observed range and understates the uncertainty).',
    '- **chat**: by default only 10 clients send (`--chat-senders`), each with one message in flight until the last client has it, so fan-out stays bounded; `extra.deliveriesPerSec` counts message × receiver deliveries; p50/p99 run from send until the last client has the message. Any lost, duplicated or reordered delivery fails the cell.',
    '- **http driver**: `native` (default; µs histograms) or `autocannon` (client.driver in results.json); autocannon records whole milliseconds (each merged at its midpoint, so < 1 ms reads 500 µs): its percentiles have 1 ms resolution.',
    '- **p50/p99**: HDR-histogram latency percentiles of one operation, from send to the last byte of its verified reply (µs resolution).',
    '- **anatomy**: syscalls, context switches and page faults of every server thread, counted by the kernel (perf stat, enabled when the window opened and disabled when it closed; `--anatomy proc` or a machine without perf: /proc\'s per-thread switches, utime/stime, faults and syscr/syscw), each divided by the window\'s ops the way CPU per op is. Load-side work is never counted.',
    '- **server CPU µs/op**: user + system CPU of the server process per second of the window (from /proc, sampled when its start and end reached the harness), divided by ops/s; lower is more efficient.',
    '- **client CPU %**: the load child\'s CPU (in brackets, each load thread\'s); at ≥ 90% of the cores it was given (`--client-cpus`), or one load thread at ≥ 90% of a core, the cell is *client-bound* and measures the load generator, not the server.',
    '- **est.**: connections alive when the window opened; fewer than requested means the server refused some (see caps).',
    '- **idle connections** (`bench --idle`): extra connections opened before the warm-up and held silent beside the active ones. A cell that held them is named with them (`epoll × echo × 10 (+10,000 idle)`); ' +
      'the per-connection tables and charts show only cells without them (in a run measured only with idle connections, the fewest), and *Idle connections* compares the counts.',
    '- **markers**: ✕ failed (no value, drawn at the axis floor), ▲ capped, hollow ○ client-bound; the same marks appear in the tables. ' +
      'At each connection count the strategies are drawn a few pixels apart so equal values stay visible; the axis position is the same.',
    '',
  );
  return lines.join('\n');
}
