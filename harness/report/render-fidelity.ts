/**
 * "Is the port faithful?": the section a `fidelity` result adds to
 * `report.md`: the checks, the port/upstream ratios of what a port can never
 * match (time and memory), and the first rows that differ.
 */
import type { FidelityFigures } from '../fidelity/fidelity-checks.ts';
import type { RunResult } from '../result/run-result.ts';
import { markdownCode, markdownTable, markdownText } from './markdown.ts';
import { formatCount, formatRatio } from './number-format.ts';

const ratio = (r: number | null) => (r === null ? 'n/a' : `${formatRatio(r)}×`);

export function renderFidelity(result: RunResult): string | null {
  const f = result.extra?.fidelity as FidelityFigures | undefined;
  if (!f) return null;
  const checks = result.checks ?? [];
  const faithful = checks.length > 0 && checks.every((c) => c.passed);
  const parts = [
    '## Is the port faithful?',
    '',
    `${faithful ? '✅ Yes' : '❌ No'}: ${markdownCode(f.port)} against upstream's own file, both in the same Alembic environment on clones of one template (the port stands for it because ${markdownText(f.why)}).`,
    '',
    markdownTable(
      ['', 'check', 'measured', 'limit'],
      checks.map((c) => [c.passed ? '✅' : '❌', markdownText(c.name), markdownText(c.measured), markdownText(c.limit)]),
    ),
    '',
    'Where a port can never be upstream (TypeScript against Python), as figures, not verdicts:',
    '',
    markdownTable(
      ['port / upstream', 'ratio'],
      [
        ['duration', ratio(f.durationRatio)],
        ['client peak memory', ratio(f.clientMemoryRatio)],
        ['WAL bytes', ratio(f.walBytesRatio)],
        ['full-page images', ratio(f.fpiRatio)],
      ],
    ),
  ];
  if (f.rows.differences.length) {
    parts.push(
      '',
      `The first ${formatCount(f.rows.differences.length)} differences (of ${formatCount(f.rows.differing)} rows):`,
      '',
      markdownTable(
        ['row id', 'chat id', 'column', 'port', 'upstream'],
        f.rows.differences.map((d) => [markdownCode(d.id || '—'), d.chatId ? markdownCode(d.chatId) : '', markdownText(d.column), markdownCode(d.port), markdownCode(d.upstream)]),
      ),
    );
  }
  return parts.join('\n');
}
