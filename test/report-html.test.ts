/**
 * report.html without a browser: what the page holds, that nothing from a
 * results file can become markup or close a script, and the Markdown
 * conversion it is built on. test/report-browser.test.ts opens it in Chromium.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { PageData } from '../reports/browser/page-data.js';
import { planCharts } from '../reports/charts.js';
import { inlineScript, linearTicks, logTicks, renderHtml, scriptJson } from '../reports/html.js';
import { markdownToHtml } from '../reports/markdown-html.js';
import { htmlAssets, writeReport } from '../reports/write.js';
import { testCell, testResults } from './helpers/fixtures.js';
import { htmlResults } from './helpers/html-fixture.js';

const assets = htmlAssets();
const results = htmlResults();
const html = renderHtml(results, assets);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'iomodels-html-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The text of the <script> with this id. */
function scriptById(page: string, id: string): string {
  const m = new RegExp(`<script type="application/json" id="${id}">([\\s\\S]*?)</script>`).exec(page);
  assert.ok(m !== null, `expected a <script id="${id}">`);
  return m[1] ?? '';
}

/** The page with its scripts cut out: what the HTML parser reads as markup. */
function markup(page: string): string {
  return page.replace(/<script[^>]*>[\s\S]*?<\/script>/g, '');
}

describe('report.html', () => {
  test('is one file: Chart.js and the page script inline, the results embedded, nothing fetched', () => {
    assert.ok(html.includes('Chart.js v4'), 'expected Chart.js inlined');
    assert.doesNotMatch(html, /<script[^>]*\ssrc=/i, 'expected no external script');
    assert.doesNotMatch(markup(html), /<link[^>]*href=|<img[^>]*src=|url\(/i, 'expected no stylesheet, image or CSS url() to fetch');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/, 'expected a CSP that forbids fetching');
    assert.deepEqual(JSON.parse(scriptById(html, 'iomodels-results')), JSON.parse(JSON.stringify(results)), 'expected the results embedded whole');
    assert.doesNotMatch(html, /sourceMappingURL/, 'expected no source map reference (it would be fetched by dev tools)');
  });

  test('one figure, canvas and chart description per planned chart, each with its table', () => {
    const charts = planCharts(results);
    const data = JSON.parse(scriptById(html, 'iomodels-charts')) as PageData;
    assert.equal(data.charts.length, charts.length + 1, 'expected every planned chart and the micro chart');
    assert.equal([...html.matchAll(/<canvas /g)].length, data.charts.length, 'expected one canvas per chart');
    for (const c of data.charts) assert.ok(html.includes(`<canvas id="${c.id}"`), `expected a canvas for ${c.id}`);
    assert.equal([...html.matchAll(/<details class="data" open>/g)].length, charts.length, 'expected a table under each chart (the micro section has its own)');
    const t = data.charts.find((c) => c.id === 'chart-echo-throughput');
    assert.ok(t !== undefined, 'expected the echo throughput chart');
    assert.deepEqual(t.ticks['x'], { values: [10, 100], labels: ['10', '100'] }, 'expected the connection ticks and their labels written out');
    assert.deepEqual(t.strategies, ['libuv', 'epoll', 'select', 'blocking', ''], 'expected each dataset\'s strategy, and none for the failed crosses');
    assert.ok(t.legend.some((l) => l.text === 'capped' && l.datasetIndex === undefined), 'expected marker entries that toggle nothing');
    assert.ok(t.errorBars.length > 0 && t.dodge.length === t.config.data.datasets.length, 'expected error bars and one dodge offset per dataset');
    assert.equal(JSON.stringify(t.config).includes('"callback"'), false, 'expected no callbacks in the JSON config');
  });

  test('the same sections as report.md, the plan line with its profile, every metric at one connection count', () => {
    for (const h of ['echo', 'Caps and faults', 'Cells', 'Micro-benchmarks', 'What the numbers mean']) assert.match(html, new RegExp(`<h2 id="[^"]+">${h}</h2>`), `expected the ${h} section`);
    assert.match(html, /<strong>Plan:<\/strong> profile quick; strategies libuv, epoll, select, blocking/, 'expected the plan line with its profile');
    assert.match(html, /<section class="compare" id="echo-at-one-count">/, 'expected the per-count comparison of echo');
    const at100 = /<div class="compare-at" data-connections="100">([\s\S]*?)<\/div>\n<\/div>/.exec(html)?.[1] ?? '';
    assert.match(at100, /<td>select<\/td><td class="num">[^<]+<\/td>.*▲ capped; refused: FD_SETSIZE ×12/, `expected select capped at 100 with its reason: ${at100}`);
    assert.match(at100, /<td>blocking<\/td><td class="num">✕ failed<\/td>/, 'expected the failed cell marked');
  });

  test('nothing from results.json becomes markup or closes a script', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const close = '</script><script>alert(2)</script><!--';
    const hostile = testResults(
      [
        testCell({ strategy: evil, rep: 0, status: 'capped', reason: close }),
        testCell({ strategy: evil, rep: 1 }),
        testCell({ strategy: 'libuv', rep: 0, status: 'failed', reason: `${close}"'&` }),
      ],
      { strategies: [evil, 'libuv'], repeat: 2, profile: close },
    );
    const page = renderHtml(hostile, assets);
    const tags = markup(page);
    assert.doesNotMatch(tags, /<img|<script|<!--/, 'expected every name and reason escaped in the markup');
    // Inside a tag, a value that broke out of its quotes would leave an attribute outside them.
    const unquoted = [...tags.matchAll(/<[a-z][^>]*>/g)].map((m) => m[0].replace(/"[^"]*"/g, '""'));
    assert.deepEqual(unquoted.filter((t) => /\son\w+=|\ssrc=/.test(t)), [], 'expected no event handler or src attribute in any tag');
    assert.ok(tags.includes('&lt;img src=x onerror=alert(1)&gt;'), 'expected the strategy shown as text');
    const scripts = [...page.matchAll(/<script[^>]*>/g)].length;
    assert.equal([...page.matchAll(/<\/script/gi)].length, scripts, 'expected "</script" only where a script ends');
    assert.deepEqual(JSON.parse(scriptById(page, 'iomodels-results')), JSON.parse(JSON.stringify(hostile)), 'expected the embedded JSON to read back unchanged');
    const data = JSON.parse(scriptById(page, 'iomodels-charts')) as PageData;
    assert.ok(data.charts.some((c) => c.strategies.includes(evil)), 'expected the hostile name to reach the page as data, for textContent');
  });

  test('script and JSON escaping', () => {
    assert.equal(scriptJson({ a: '</script>' }), '{"a":"\\u003c/script>"}');
    assert.deepEqual(JSON.parse(scriptJson({ a: '</script>\u2028' })), { a: '</script>\u2028' });
    assert.equal(inlineScript('s = "</script>"; // <!-- x\n//# sourceMappingURL=a.js.map'), 's = "<\\/script>"; // \\x3C!-- x\n');
  });

  test('ticks fixed on the server', () => {
    assert.deepEqual(linearTicks(57_800), [0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
    assert.deepEqual(linearTicks(7), [0, 2, 4, 6, 8]);
    assert.deepEqual(linearTicks(0), [0, 0.2, 0.4, 0.6, 0.8, 1], 'expected an empty axis to span 0 to 1');
    assert.deepEqual(logTicks(20, 5000), [20, 50, 100, 200, 500, 1000, 2000, 5000]);
  });

  test('writeReport writes report.html beside report.md', async () => {
    const w = await writeReport(results, tmp);
    assert.deepEqual(w.warnings, [], 'expected no warnings');
    assert.equal(w.htmlPath, path.join(tmp, 'report.html'));
    assert.ok(existsSync(w.htmlPath) && readFileSync(w.htmlPath, 'utf8').startsWith('<!doctype html>'), 'expected report.html on disk');
  });
});

describe('Markdown to HTML', () => {
  test('headings with unique anchors, paragraphs, lists, quotes, inline markup', () => {
    const out = markdownToHtml('# T\n\n## a b\n\nline one\nline two *em* **b** `<c>`\n\n- x\n- y <z>\n\n> careful\n\n## a b\n');
    assert.equal(
      out,
      '<h1 id="t">T</h1>\n<h2 id="a-b">a b</h2>\n<p>line one line two <em>em</em> <strong>b</strong> <code>&lt;c&gt;</code></p>\n' +
        '<ul>\n<li>x</li>\n<li>y &lt;z&gt;</li>\n</ul>\n<blockquote><p>careful</p></blockquote>\n<h2 id="a-b-2">a b</h2>\n',
    );
  });

  test('tables keep their alignment; an image line and its caption go to the hook', () => {
    const out = markdownToHtml('| a | n |\n| --- | ---: |\n| **x** | 1 |\n\n![alt](f.png)\n\n*cap*\n\nafter\n', {
      image: (alt, src, caption) => ({ html: `<fig ${alt} ${src} ${caption ?? ''}>`, usedCaption: true }),
    });
    assert.ok(out.includes('<th>a</th><th class="num">n</th>'), out);
    assert.ok(out.includes('<td><strong>x</strong></td><td class="num">1</td>'), out);
    assert.ok(out.includes('<fig alt f.png cap>\n<p>after</p>'), `expected the caption consumed by the figure: ${out}`);
  });
});
