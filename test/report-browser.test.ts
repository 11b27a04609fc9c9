/**
 * report.html in a real browser: Debian's Chromium driven by playwright-core
 * (which downloads no browser of its own). The page is rendered from a
 * small fixture and opened from file://; it must request nothing but
 * itself, log no error, draw one canvas per chart, show a tooltip with the
 * value, interval, percentiles and marks of a hovered point, hide a
 * strategy whose legend entry is clicked, keep its tables with JavaScript
 * off, and fit a phone's width. The screenshot the README shows is taken
 * here, into docs/report-html.png.
 *
 * Without Chromium the test is skipped and says why (.ci/run installs it).
 */
import { planAnatomyCharts } from '../reports/anatomy-charts.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { groupCells, groupEstimate } from '../reports/aggregate.js';
import { planCharts } from '../reports/charts.js';
import { fmtRate, fmtUs } from '../reports/format.js';
import { renderHtml } from '../reports/html.js';
import { htmlAssets } from '../reports/write.js';
import { loadResults } from '../harness/results-file.js';
import { CAPPED_REASON, htmlResults } from './helpers/html-fixture.js';
import { CLI } from './helpers/serve.js';

const CHROMIUM = process.env['IOMODELS_CHROMIUM'] ?? '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set IOMODELS_CHROMIUM): the browser test cannot run`;
/** Without these, Chromium phones home at start-up, and this machine's closed network refuses it. */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOT = fileURLToPath(new URL('../../docs/report-html.png', import.meta.url));
/** The README's sample: a real run's results, re-rendered here as a user would. */
const SAMPLE = fileURLToPath(new URL('../../docs/sample/results.json', import.meta.url));
const WAIT = { timeout: 30_000 };

/**
 * What the functions run in the page touch, typed here: they are written
 * in this file but run in the browser, where `globalThis` is the window
 * (this project compiles its tests without the DOM's types).
 */
interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}
interface PageChart {
  data: { datasets: { label?: string; data: { x: number }[] }[] };
  getDatasetMeta(i: number): { data: { x: number; y: number }[] };
  isDatasetVisible(i: number): boolean;
  legend?: { legendItems?: { text: string }[]; legendHitBoxes?: Box[] };
}
interface PageElement {
  getBoundingClientRect(): Box;
  textContent: string | null;
}
interface PageGlobal {
  Chart?: { getChart(key: string | PageElement): PageChart | undefined };
  document: {
    getElementById(id: string): PageElement | null;
    querySelector(selector: string): PageElement | null;
    querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
    documentElement: { scrollWidth: number };
  };
  innerWidth: number;
}

const results = htmlResults();
const charts = planCharts(results);
const dir = mkdtempSync(path.join(os.tmpdir(), 'iomodels-html-'));
const file = path.join(dir, 'report.html');
writeFileSync(file, renderHtml(results, htmlAssets()));
const url = pathToFileURL(file).href;

let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function launch(): Promise<Browser> {
  browser ??= await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
  return browser;
}

/** Canvas-relative pixel of a dataset's point, by dataset label and x, as a page coordinate. */
async function pointAt(page: Page, canvasId: string, label: string, x: number): Promise<{ x: number; y: number; dataset: number }> {
  return page.evaluate(
    ({ canvasId, label, x }) => {
      const w = globalThis as unknown as PageGlobal;
      const canvas = w.document.getElementById(canvasId);
      const chart = w.Chart?.getChart(canvasId);
      if (canvas === null || chart === undefined) throw new Error(`no chart on #${canvasId}`);
      const dataset = chart.data.datasets.findIndex((d) => d.label === label);
      const index = (chart.data.datasets[dataset]?.data ?? []).findIndex((p) => p.x === x);
      const el = chart.getDatasetMeta(dataset).data[index];
      if (el === undefined) throw new Error(`no point ${label} at ${x}`);
      const box = canvas.getBoundingClientRect();
      return { x: box.left + el.x, y: box.top + el.y, dataset };
    },
    { canvasId, label, x },
  );
}

async function tipText(page: Page, figure: string): Promise<string> {
  const tip = page.locator(`#${figure} .tip`);
  await tip.waitFor({ state: 'visible', ...WAIT });
  const lines = await tip.locator('strong, div').allTextContents();
  return lines.join('\n');
}

/**
 * A desktop-sized page on `pageUrl`, with every request and every console
 * error or warning it makes recorded, once `count` of its canvases hold a
 * chart.
 */
async function openCharted(pageUrl: string, count: number): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  const page = await (await launch()).newPage({ viewport: { width: 1280, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(pageUrl, { waitUntil: 'load', ...WAIT });
  await page.waitForFunction(
    (n) => {
      const w = globalThis as unknown as PageGlobal;
      return [...w.document.querySelectorAll('canvas')].filter((c) => w.Chart?.getChart(c) !== undefined).length === n;
    },
    count,
    WAIT,
  );
  return { page, requests, errors };
}

// Skipped test by test, so the runner counts and names each skip.
const OPTS = { skip: SKIP, timeout: 120_000 };

describe('report.html in Chromium', () => {
  test('opens from file:// with no request but itself and no console error; one canvas per chart', OPTS, async () => {
    const expected = charts.length + 1; // + the micro-benchmark chart
    const { page, requests, errors } = await openCharted(url, expected);
    assert.equal(await page.locator('canvas').count(), expected, `expected one canvas per chart (${charts.length} planned + micro)`);
    assert.equal(await page.locator('figure.chart').count(), expected, 'expected one figure per chart');
    assert.deepEqual(errors, [], 'expected no console errors or warnings');
    assert.deepEqual(requests, [url], 'expected the page to request nothing but itself');

    // Hover select at 100 connections: capped, three repetitions.
    const figure = 'fig-chart-echo-throughput';
    await page.locator(`#${figure}`).scrollIntoViewIfNeeded();
    const at = await pointAt(page, 'chart-echo-throughput', 'select', 100);
    await page.mouse.move(at.x, at.y);
    const text = await tipText(page, figure);
    const g = groupCells(results.cells).find((x) => x.strategy === 'select' && x.connections === 100);
    assert.ok(g !== undefined, 'fixture has select × 100');
    const ops = groupEstimate(g, (c) => c.opsPerSec);
    const p50 = groupEstimate(g, (c) => c.latencyUs.p50).median;
    const p99 = groupEstimate(g, (c) => c.latencyUs.p99).median;
    assert.match(text, /^select × echo × 100$/m, `expected the cell as the title:\n${text}`);
    assert.ok(text.includes(`throughput: ${fmtRate(ops.median)} round trips/s`), `expected the median value:\n${text}`);
    assert.ok(text.includes(`95% CI ${fmtRate(ops.lo)} – ${fmtRate(ops.hi)} round trips/s (3 repetitions)`), `expected the 95% interval:\n${text}`);
    assert.ok(text.includes(`p50 ${fmtUs(p50)} · p99 ${fmtUs(p99)}`), `expected p50 and p99:\n${text}`);
    assert.ok(text.includes(`▲ capped: ${CAPPED_REASON}`), `expected the capped mark and its reason:\n${text}`);

    // And a client-bound one.
    const cb = await pointAt(page, 'chart-echo-throughput', 'epoll', 10);
    await page.mouse.move(cb.x, cb.y);
    await page.waitForFunction((f) => (globalThis as unknown as PageGlobal).document.querySelector(`#${f} .tip strong`)?.textContent === 'epoll × echo × 10', figure, WAIT);
    assert.match(await tipText(page, figure), /○ client-bound: load child at 96% CPU/, 'expected the client-bound mark');

    // Take the README's screenshot with a tooltip open.
    await page.mouse.move(at.x, at.y);
    await page.waitForFunction((f) => (globalThis as unknown as PageGlobal).document.querySelector(`#${f} .tip strong`)?.textContent === 'select × echo × 100', figure, WAIT);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.locator(`#${figure}`).screenshot({ path: SCREENSHOT });

    // A legend click hides that strategy's dataset, and only in this chart.
    const hit = await page.evaluate(() => {
      const w = globalThis as unknown as PageGlobal;
      const canvas = w.document.getElementById('chart-echo-throughput');
      const chart = w.Chart?.getChart('chart-echo-throughput');
      const items = chart?.legend?.legendItems ?? [];
      const k = items.findIndex((i) => i.text === 'epoll');
      const box = chart?.legend?.legendHitBoxes?.[k];
      if (canvas === null || box === undefined) throw new Error('no legend entry for epoll');
      const r = canvas.getBoundingClientRect();
      return { x: r.left + box.left + box.width / 2, y: r.top + box.top + box.height / 2 };
    });
    await page.mouse.click(hit.x, hit.y);
    await page.waitForFunction(
      (i) => (globalThis as unknown as PageGlobal).Chart?.getChart('chart-echo-throughput')?.isDatasetVisible(i) === false,
      cb.dataset,
      WAIT,
    );
    const other = await page.evaluate(() => {
      const chart = (globalThis as unknown as PageGlobal).Chart?.getChart('chart-echo-cpu');
      const i = chart?.data.datasets.findIndex((d) => d.label === 'epoll') ?? -1;
      return chart?.isDatasetVisible(i);
    });
    assert.equal(other, true, 'expected epoll still shown in the other charts');

    // The page-wide switch hides a strategy in every chart.
    await page.locator('.toggles button[data-strategy="libuv"]').click();
    const shown = await page.evaluate(() => {
      const w = globalThis as unknown as PageGlobal;
      return [...w.document.querySelectorAll('canvas')].flatMap((c) => {
        const chart = w.Chart?.getChart(c);
        return (chart?.data.datasets ?? []).flatMap((d, i) => (d.label?.startsWith('libuv') === true ? [chart?.isDatasetVisible(i) === true] : []));
      });
    });
    assert.ok(shown.length > 0 && shown.every((v) => !v), `expected libuv hidden everywhere: ${shown.join(', ')}`);

    // Every metric at one connection count: one table at a time.
    const section = page.locator('section.compare').first();
    await section.locator('select.compare-pick').selectOption('10');
    assert.equal(await section.locator('.compare-at[data-connections="10"]').isVisible(), true, 'expected the 10-connection table shown');
    assert.equal(await section.locator('.compare-at[data-connections="100"]').isVisible(), false, 'expected the others hidden');
    assert.deepEqual(errors, [], 'expected no console errors after interacting');
    await page.close();
  });

  test('the sample report, as `iomodels report docs/sample/results.json --out X` writes it: every chart drawn, nothing fetched, no error, live tooltips', OPTS, async () => {
    const out = path.join(dir, 'sample');
    const r = spawnSync(process.execPath, [CLI, 'report', SAMPLE, '--out', out], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `iomodels report failed: ${r.stderr}`);
    const sample = loadResults(SAMPLE);
    // Line charts, the anatomy's stacked bars and the micro-benchmarks' chart.
    const expected = planCharts(sample).length + planAnatomyCharts(sample).length + (sample.micro === undefined ? 0 : 1);
    assert.ok(planAnatomyCharts(sample).length > 0, 'expected the sample to carry the anatomy\'s charts');
    const sampleUrl = pathToFileURL(path.join(out, 'report.html')).href;
    const { page, requests, errors } = await openCharted(sampleUrl, expected);
    assert.equal(await page.locator('canvas').count(), expected, `expected one canvas per chart of the sample (${expected})`);
    assert.deepEqual(requests, [sampleUrl], 'expected the page to request nothing but itself');
    assert.deepEqual(errors, [], 'expected no console errors or warnings');

    // A real cell's tooltip carries its real median.
    const g = groupCells(sample.cells).find((x) => x.strategy === 'epoll' && x.workload === 'echo' && x.connections === 100 && (x.idle ?? 0) === 0);
    assert.ok(g !== undefined, 'the sample has epoll × echo × 100');
    const figure = 'fig-chart-echo-throughput';
    await page.locator(`#${figure}`).scrollIntoViewIfNeeded();
    const at = await pointAt(page, 'chart-echo-throughput', 'epoll', 100);
    await page.mouse.move(at.x, at.y);
    await page.waitForFunction((f) => (globalThis as unknown as PageGlobal).document.querySelector(`#${f} .tip strong`)?.textContent === 'epoll × echo × 100', figure, WAIT);
    const text = await tipText(page, figure);
    assert.ok(text.includes(`throughput: ${fmtRate(groupEstimate(g, (c) => c.opsPerSec).median)} round trips/s`), `expected the sample's median:\n${text}`);
    await page.close();
  });

  test('with JavaScript off every table is still there; on a phone nothing overflows', OPTS, async () => {
    const b = await launch();
    const off = await b.newContext({ javaScriptEnabled: false });
    const page = await off.newPage();
    await page.goto(url, WAIT);
    assert.equal(await page.locator('details.data[open] table').count(), charts.length, 'expected each chart\'s table, open');
    assert.equal(await page.locator('canvas').first().isVisible(), false, 'expected no empty chart boxes');
    assert.ok(await page.locator('table').count() > charts.length + 3, 'expected the report\'s own tables too');
    assert.ok(await page.getByText('JavaScript is off').isVisible(), 'expected the page to say why there are no charts');
    assert.equal(await page.locator('.toggles').isVisible(), false, 'expected no strategy switches that could not work');
    await off.close();

    const phone = await b.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    await p.goto(url, WAIT);
    await p.waitForFunction(
      () => {
        const w = globalThis as unknown as PageGlobal;
        return [...w.document.querySelectorAll('canvas')].every((c) => w.Chart?.getChart(c) !== undefined);
      },
      undefined,
      WAIT,
    );
    const widths = await p.evaluate(() => {
      const w = globalThis as unknown as PageGlobal;
      return { page: w.document.documentElement.scrollWidth, view: w.innerWidth, canvas: w.document.querySelector('canvas')?.getBoundingClientRect().width ?? 0 };
    });
    assert.ok(widths.page <= widths.view, `expected no sideways scroll on a phone: page ${widths.page} px in a ${widths.view} px view`);
    assert.ok(widths.canvas > 300, `expected the chart to use the phone's width, got ${widths.canvas} px`);
    await phone.close();
  });
});
