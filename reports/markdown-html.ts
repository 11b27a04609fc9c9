/**
 * The subset of Markdown that reports/markdown.ts writes, as HTML: so
 * report.html says exactly what report.md says, from one renderer, and
 * only adds what a page can do beyond it. Everything is escaped before any
 * tag is added, so nothing from a results file can become markup.
 *
 * Handled: `#`–`####` headings, paragraphs (consecutive lines), `- ` lists,
 * `> ` quotes, pipe tables with an alignment row, a line that is only an
 * image, and inline `code`, **bold** and *emphasis*.
 */

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Inline markup of one line of text, escaped. */
export function inlineHtml(text: string): string {
  // Code spans first: nothing inside them is markup.
  return text
    .split(/(`[^`]+`)/)
    .map((part) => {
      if (part.length > 1 && part.startsWith('`') && part.endsWith('`')) return `<code>${escapeHtml(part.slice(1, -1))}</code>`;
      return escapeHtml(part)
        .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
        .replace(/\*([^*\s][^*]*)\*/g, '<em>$1</em>');
    })
    .join('');
}

/** A heading's anchor: lower case, words joined by "-". */
export function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s === '' ? 'section' : s;
}

export interface MarkdownHooks {
  /** HTML for a line that is only `![alt](src)`, and whether the caption line after it was used. */
  image?: (alt: string, src: string, caption: string | undefined) => { html: string; usedCaption: boolean };
  /** Extra HTML after a heading (already escaped by the hook). */
  afterHeading?: (level: number, text: string, id: string) => string;
}

function splitRow(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split('|').map((c) => c.trim());
}

function tableHtml(rows: string[]): string {
  const head = splitRow(rows[0] ?? '');
  const align = splitRow(rows[1] ?? '').map((a) => (a.endsWith(':') ? 'right' : 'left'));
  const cls = (i: number): string => (align[i] === 'right' ? ' class="num"' : '');
  const body = rows.slice(2).map((r) => `<tr>${splitRow(r).map((c, i) => `<td${cls(i)}>${inlineHtml(c)}</td>`).join('')}</tr>`);
  return (
    `<div class="table-wrap"><table>\n<thead><tr>${head.map((c, i) => `<th${cls(i)}>${inlineHtml(c)}</th>`).join('')}</tr></thead>\n` +
    `<tbody>\n${body.join('\n')}\n</tbody></table></div>\n`
  );
}

const IMAGE = /^!\[([^\]]*)\]\(([^)\s]+)\)$/;

/** Markdown (as reports/markdown.ts writes it) to HTML. */
export function markdownToHtml(md: string, hooks: MarkdownHooks = {}): string {
  const lines = md.split('\n');
  const out: string[] = [];
  const ids = new Map<string, number>();
  let i = 0;
  const next = (): string => lines[i] ?? '';
  while (i < lines.length) {
    const line = next();
    if (line.trim() === '') {
      i++;
      continue;
    }
    const heading = /^(#{1,4}) (.*)$/.exec(line);
    if (heading !== null) {
      const level = heading[1]?.length ?? 1;
      const text = heading[2] ?? '';
      // Repeated headings (### Throughput under every workload) get unique anchors.
      let id = slug(text);
      const seen = ids.get(id) ?? 0;
      ids.set(id, seen + 1);
      if (seen > 0) id = `${id}-${seen + 1}`;
      out.push(`<h${level} id="${escapeHtml(id)}">${inlineHtml(text)}</h${level}>`);
      if (hooks.afterHeading !== undefined) out.push(hooks.afterHeading(level, text, id));
      i++;
      continue;
    }
    const image = IMAGE.exec(line.trim());
    if (image !== null) {
      i++;
      // The caption is the next paragraph when it is one emphasised line.
      let j = i;
      while (j < lines.length && (lines[j] ?? '').trim() === '') j++;
      const capLine = (lines[j] ?? '').trim();
      const caption = /^\*[^*].*\*$/.test(capLine) ? capLine.slice(1, -1) : undefined;
      const alt = image[1] ?? '';
      const src = image[2] ?? '';
      const r = hooks.image?.(alt, src, caption) ?? { html: `<p>${inlineHtml(`${alt} (${src})`)}</p>`, usedCaption: false };
      out.push(r.html);
      if (r.usedCaption && caption !== undefined) i = j + 1;
      continue;
    }
    if (line.startsWith('|')) {
      const rows: string[] = [];
      while (i < lines.length && next().startsWith('|')) rows.push(lines[i++] ?? '');
      out.push(tableHtml(rows));
      continue;
    }
    if (line.startsWith('- ')) {
      const items: string[] = [];
      for (; i < lines.length && next().startsWith('- '); i++) items.push(next().slice(2));
      out.push(`<ul>\n${items.map((t) => `<li>${inlineHtml(t)}</li>`).join('\n')}\n</ul>`);
      continue;
    }
    if (line.startsWith('> ')) {
      const quoted: string[] = [];
      for (; i < lines.length && next().startsWith('> '); i++) quoted.push(next().slice(2));
      out.push(`<blockquote><p>${inlineHtml(quoted.join(' '))}</p></blockquote>`);
      continue;
    }
    const para: string[] = [];
    while (i < lines.length) {
      const l = next();
      if (l.trim() === '' || /^(#{1,4} |\||- |> )/.test(l) || IMAGE.test(l.trim())) break;
      para.push(l);
      i++;
    }
    out.push(`<p>${inlineHtml(para.join(' '))}</p>`);
  }
  return out.join('\n') + '\n';
}
