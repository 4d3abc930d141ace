/**
 * GitHub-flavoured Markdown pieces whose content cannot break them: table
 * cells escape pipes, code spans and fences grow past the backticks inside.
 */

/**
 * Free text (an error, a warning, a description) as literal Markdown: the
 * characters that would start emphasis, links, code or HTML are escaped.
 * Pipes are left to `markdownTable`, which escapes them in cells.
 */
export function markdownText(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/[\\`*_[\]<>&]/g, (c) => `\\${c}`);
}

/** Escapes a cell's text for a table row. */
function markdownCell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** Inline code that survives backticks inside (uses a longer fence). */
export function markdownCode(text: string): string {
  const clean = text.replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...(clean.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = clean.startsWith('`') || clean.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${clean}${pad}${fence}`;
}

/**
 * A table from a header row and body rows. `align` per column: `l` (default)
 * or `r` for figures.
 */
export function markdownTable(header: string[], rows: string[][], align: ('l' | 'r')[] = []): string {
  const line = (cells: string[]) => `| ${cells.map(markdownCell).join(' | ')} |`;
  const rule = `|${header.map((_, i) => (align[i] === 'r' ? ' ---: ' : ' --- ')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** A fenced block (```lang … ```) whose fence is longer than any backtick run inside. */
export function markdownFence(text: string, lang = ''): string {
  const longest = Math.max(0, ...(text.match(/`{3,}/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text.replace(/\n$/, '')}\n${fence}`;
}
