/**
 * The reports of an upgrade path (`harness upgrade`, and `gate`/`validate`
 * with --from): `report.md`, `junit.xml`, `chart.svg` and the terminal
 * summary, each a pure function of `result.upgrade`. Revisions are listed
 * costliest (longest) first, because the one that takes an hour is the one a
 * reviewer has to look at, wherever it sits in the path.
 */
import { FLOORS, MIN_R2, type Projected, type UpgradeSweep } from '../upgrade/sweep-upgrade.ts';
import type { Check, RunResult, UpgradeResult, UpgradeRevision } from '../result/run-result.ts';
import { formatBytes, formatDuration } from '../units.ts';
import { markdownCode, markdownFence, markdownTable, markdownText } from './markdown.ts';
import { formatCount, formatDecimal, formatLongDuration, formatRatio, mebibytesOf, niceMax, secondsOf } from './number-format.ts';
import { PALETTE } from './render-chart-svg.ts';
import { xmlEscape } from './render-junit.ts';

const GiB = 1024 ** 3;

/** PostgreSQL settings that decide an upgrade's WAL and checkpoints; the rest are in result.json. */
const SETTINGS_SHOWN = ['shared_buffers', 'max_wal_size'];

/** The upgrade of a result, for renderers that are only called with one. */
function upgradeOf(result: RunResult): UpgradeResult {
  if (!result.upgrade) throw new Error(`result ${result.runId} has no upgrade path to report`);
  return result.upgrade;
}

function costliestFirst(revisions: UpgradeRevision[]): UpgradeRevision[] {
  return [...revisions].sort((a, b) => b.durationMs - a.durationMs);
}

function failedChecks(r: UpgradeRevision): Check[] {
  return r.checks.filter((c) => !c.passed);
}

/** Seconds per GiB of the tables a revision touches; null when it touches none. */
function secondsPerGb(r: UpgradeRevision): number | null {
  return r.touchedBytes > 0 ? r.durationMs / 1000 / (r.touchedBytes / GiB) : null;
}

/** WAL bytes per byte of the tables a revision touches; null when it touches none. */
function walAmplification(r: UpgradeRevision): number | null {
  return r.touchedBytes > 0 ? r.walBytes / r.touchedBytes : null;
}

/** `AccessExclusiveLock` as PostgreSQL's documentation and `LOCK TABLE` spell it: `ACCESS EXCLUSIVE`. */
function shortLockMode(mode: string): string {
  return mode
    .replace(/Lock$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase();
}

function locksText(r: UpgradeRevision): string {
  const entries = Object.entries(r.locks).sort(([a], [b]) => a.localeCompare(b));
  return entries.length ? entries.map(([table, mode]) => `${table}: ${shortLockMode(mode)}`).join(', ') : 'none';
}

function blockedWriteText(w: UpgradeRevision['blockedWrite']): string {
  return w ? `${w.table} ${formatDuration(w.ms)}${w.unfinished ? ' (still waiting)' : ''}` : 'none';
}

function touchedText(r: UpgradeRevision): string {
  return r.touched.length ? r.touched.map((t) => `${t.table} ${formatBytes(t.bytes)}`).join(', ') : 'none';
}

function outcomeText(u: UpgradeResult): string {
  return u.outcome === 'succeeded' ? `succeeded, stamped ${u.stamp ?? 'none'}` : `FAILED${u.error ? `: ${u.error}` : ''}`;
}

/** `single` and `per-migration` in words; another shape is shown as it is. */
function shapeText(shape: string): string {
  if (shape === 'single') return 'one transaction around the whole path';
  if (shape === 'per-migration') return 'a transaction per revision';
  return shape;
}

function checkCounts(u: UpgradeResult): { total: number; failed: number; revisions: number } {
  return {
    total: u.revisions.reduce((n, r) => n + r.checks.length, 0),
    failed: u.revisions.reduce((n, r) => n + failedChecks(r).length, 0),
    revisions: u.revisions.filter((r) => failedChecks(r).length > 0).length,
  };
}

// ---------------------------------------------------------------- report.md

function header(result: RunResult, u: UpgradeResult): string {
  const counts = checkCounts(u);
  const status = result.status === 'complete' ? [] : [`- **Status:** ⚠️ ${result.status}${result.stoppedAt ? ` at ${markdownText(result.stoppedAt)}` : ''}`];
  const outcome =
    u.outcome === 'succeeded'
      ? `✅ succeeded, stamped ${markdownCode(u.stamp ?? 'none')}`
      : `❌ failed${u.error ? `: ${markdownText(u.error)}` : ''}${u.stamp ? ` (stamp left at ${markdownCode(u.stamp)})` : ''}`;
  return [
    `# Upgrade path report: ${markdownText(u.from)} -> ${markdownText(u.to)}`,
    '',
    `- **Run:** ${markdownCode(result.runId)} (${result.kind}), scenario ${markdownText(result.scenario.name)}`,
    `- **Checkout:** ${markdownCode(u.checkout)} at ${u.commit ? markdownCode(u.commit) : 'an unknown commit'}`,
    `- **Path:** ${markdownCode(u.from)} -> ${markdownCode(u.to)} (${markdownCode(`alembic upgrade ${u.target}`)}), ${u.revisions.length} revisions run, ${u.notRun.length} not run`,
    `- **Outcome:** ${outcome} in ${formatDuration(u.durationMs)}`,
    ...status,
    ...(result.error && result.error !== u.error ? [`- **Error:** ${markdownText(result.error)}`] : []),
    `- **Checks:** ${counts.total ? `${counts.failed} of ${counts.total} failed, in ${counts.revisions} of ${u.revisions.length} revisions` : 'none ran'}`,
  ].join('\n');
}

function environmentSection(result: RunResult, u: UpgradeResult): string {
  const pg = result.postgres;
  const setting = (name: string) => {
    const shown = pg.settings[name];
    const asked = pg.requested[name];
    return `${shown === undefined ? 'not reported' : markdownCode(shown)}${asked !== undefined && asked !== shown ? ` (requested ${markdownCode(asked)})` : ''}`;
  };
  const py = u.python;
  const h = result.harness;
  const rows: [string, string][] = [
    ['PostgreSQL', `${markdownText(pg.version)} via ${markdownText(pg.provider)}${pg.description ? ` (${markdownText(pg.description)})` : ''}`],
    ...SETTINGS_SHOWN.map((name): [string, string] => [markdownCode(name), setting(name)]),
    ['Python', `${markdownText(py.version)} (${markdownCode(py.executable)}, ${markdownText(py.source)})`],
    ['alembic / sqlalchemy / psycopg2', `${markdownText(py.alembic)} / ${markdownText(py.sqlalchemy)} / ${markdownText(py.psycopg2)}`],
    ['Alembic environment', `${shapeText(u.shape)}: ${markdownText(u.shapeWhy)}`],
    ['machine', `${markdownText(h.platform)}, ${h.cpus} CPUs, ${formatBytes(h.memoryBytes)}, harness ${markdownText(h.version)}`],
  ];
  return ['## Environment', '', markdownTable(['', 'value'], rows)].join('\n');
}

function datasetLine(result: RunResult, u: UpgradeResult): string | null {
  const d = result.dataset;
  const copy = u.fromDatabase ? `Upgraded a copy of the database ${markdownCode(u.fromDatabase)}.` : null;
  if (!d) return copy;
  const source = d.source === 'seed' ? `generated with seed ${d.seed ?? 'n/a'}` : `copied from ${markdownCode(d.sourceDatabase ?? '?')}`;
  return [
    `Chat table ${formatBytes(d.chatTableBytes)}: ${formatCount(d.chats)} chats, ${formatCount(d.messages)} messages, ${source}${d.reused === 'no' ? '' : ` (reused from the ${d.reused})`}.`,
    copy,
  ]
    .filter((s): s is string => s !== null)
    .join(' ');
}

function dataSection(result: RunResult, u: UpgradeResult): string {
  const line = datasetLine(result, u);
  const tables = u.tables.length
    ? markdownTable(
        ['table', 'before', 'after', 'rows', 'seeded'],
        u.tables.map((t) => [
          markdownCode(t.name),
          t.bytesBefore === null ? 'absent' : formatBytes(t.bytesBefore),
          t.bytesAfter === null ? 'absent' : formatBytes(t.bytesAfter),
          formatCount(t.rows),
          t.seeded ? markdownText(t.seeded) : t.bytesBefore === null ? 'created by the upgrade' : 'not seeded',
        ]),
        ['l', 'r', 'r', 'r', 'l'],
      )
    : '_No table sizes were read._';
  // Generic values stand in where the seeder knows nothing of a column: a cost measured on them may not be a real database's.
  const generic = u.tables.filter((t) => t.genericColumns.length > 0);
  const genericList = generic.length
    ? [
        '',
        'Seeded generically (columns filled with placeholder values, not realistic ones):',
        '',
        ...generic.map((t) => `- ${markdownCode(t.name)}: ${t.genericColumns.map(markdownCode).join(', ')}`),
      ]
    : [];
  return ['## Data', '', ...(line ? [line, ''] : []), tables, ...genericList].join('\n');
}

function totalsSection(u: UpgradeResult): string {
  const t = u.totals;
  const longest = t.longestBlockedWrite ? `${formatDuration(t.longestBlockedWrite.ms)} on ${markdownCode(t.longestBlockedWrite.table)}` : 'none';
  const rows: [string, string][] = [
    ['duration', formatDuration(u.durationMs)],
    ['WAL', `${formatBytes(t.walBytes)} (${formatCount(t.walBytes)} B)`],
    ['full-page images', formatCount(t.fpi)],
    ['checkpoints', formatCount(t.checkpoints)],
    ['peak RSS of the migration', formatBytes(t.peakRssBytes)],
    ['longest blocked write', longest],
  ];
  return ['## The whole path', '', markdownTable(['', 'value'], rows)].join('\n');
}

function ratioText(ratio: number | null): string {
  return ratio === null ? 'n/a' : formatRatio(ratio);
}

function checksCell(r: UpgradeRevision): string {
  const failed = failedChecks(r);
  if (r.checks.length === 0) return '';
  return failed.length ? `❌ ${failed.map((c) => c.name).join(', ')}` : '✅';
}

function revisionsTable(u: UpgradeResult): string {
  return markdownTable(
    ['revision', 'message', 'duration', 'touches', 's/GB', 'WAL', 'WAL ampl.', 'FPI', 'ckpt', 'blocked write', 'locks', 'peak RSS', 'checks'],
    costliestFirst(u.revisions).map((r) => [
      markdownCode(r.id),
      markdownText(r.message),
      formatDuration(r.durationMs),
      markdownText(touchedText(r)),
      ratioText(secondsPerGb(r)),
      formatBytes(r.walBytes),
      ratioText(walAmplification(r)),
      formatCount(r.fpi),
      formatCount(r.checkpoints),
      markdownText(blockedWriteText(r.blockedWrite)),
      markdownText(locksText(r)),
      formatBytes(r.peakRssBytes),
      checksCell(r),
    ]),
    ['l', 'l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'l', 'l', 'r', 'l'],
  );
}

function failedRevisionSection(r: UpgradeRevision): string {
  const figures: [string, string][] = [
    ['file', r.file ? markdownCode(r.file) : 'unknown'],
    ['from', markdownCode(r.from)],
    ['duration', `${formatDuration(r.durationMs)} (from ${formatDuration(r.startMs)} to ${formatDuration(r.endMs)} into the upgrade)`],
    ['tables touched', `${markdownText(touchedText(r))} (${formatBytes(r.touchedBytes)} in all)`],
    ['WAL', `${formatBytes(r.walBytes)}, ${ratioText(walAmplification(r))}× the tables it touches`],
    ['full-page images / checkpoints', `${formatCount(r.fpi)} / ${formatCount(r.checkpoints)}`],
    ['longest blocked write', markdownText(blockedWriteText(r.blockedWrite))],
    ['locks taken', markdownText(locksText(r))],
    ['peak RSS', formatBytes(r.peakRssBytes)],
  ];
  const checks = markdownTable(
    ['check', 'measured', 'limit', 'why'],
    failedChecks(r).map((c) => [markdownText(c.name), markdownText(c.measured), markdownText(c.limit), c.detail ? markdownText(c.detail) : '']),
  );
  return [`### ❌ ${markdownCode(r.id)} ${markdownText(r.message)}`, '', markdownTable(['figure', 'value'], figures), '', checks].join('\n');
}

function revisionsSection(u: UpgradeResult): string {
  if (u.revisions.length === 0) return '## Revisions\n\n_No revision ran._';
  const failing = costliestFirst(u.revisions).filter((r) => failedChecks(r).length > 0);
  return [
    '## Revisions, costliest first',
    '',
    'Time and WAL per GB are over the tables each revision touches (each at the larger of its sizes before and after the upgrade). ' +
      'WAL bytes come from the WAL position and are exact per revision; full-page images come from `pg_stat_wal`, which the migration\'s backend ' +
      'reports when a transaction ends, so under one transaction for the whole path they land on the revision running when it commits. ' +
      'Peak RSS includes what the Python process kept from earlier revisions.',
    '',
    revisionsTable(u),
    ...failing.flatMap((r) => ['', failedRevisionSection(r)]),
  ].join('\n');
}

function notRunSection(u: UpgradeResult): string | null {
  if (u.notRun.length === 0) return null;
  return ['## Not run', '', 'The upgrade failed before these revisions started:', '', ...u.notRun.map((id) => `- ${markdownCode(id)}`)].join('\n');
}

function resumeSection(u: UpgradeResult): string {
  const r = u.resume;
  if (!r) return '## Resumability\n\n_Not checked._';
  const differences = (label: string, list: string[]) => (list.length ? list.map((d) => `- ${label}: ${markdownText(d)}`) : [`- ${label}: none`]);
  const rerun = r.rerunExit === 0 ? 'finished (exit 0)' : `did not finish (exit ${r.rerunExit ?? 'by a signal'})${r.rerunError ? `: ${markdownText(r.rerunError)}` : ''}`;
  return [
    '## Resumability',
    '',
    `${markdownCode(r.revision)} was killed ${formatDuration(r.killedAfterMs)} in${r.killedInside ? '' : ' (after it had already ended, so this did not test it)'}; ` +
      `the rerun ${rerun}, stamp ${r.stamp ? markdownCode(r.stamp) : 'none'}.`,
    '',
    'Compared with the uninterrupted upgrade:',
    '',
    ...differences('schema', r.schemaDifferences),
    ...differences('rows', r.rowDifferences),
  ].join('\n');
}

function thresholdsSection(u: UpgradeResult): string {
  const t = u.thresholds;
  const rows: [string, string][] = [
    ['time per GB touched', `${formatDecimal(t.secondsPerGb, 2)} s/GB, for revisions of at least ${formatDuration(t.judgeFromMs)}`],
    ['WAL amplification', `${formatDecimal(t.walAmplification, 2)}, for revisions writing at least ${formatBytes(t.judgeWalFromBytes)}`],
    ['blocked write', formatDuration(t.maxBlockedWriteMs)],
    ['client peak RSS', formatBytes(t.clientPeakRssBytes)],
    ['resumability', t.resumable ? 'checked on the costliest revision' : 'not checked'],
  ];
  return ['## Thresholds', '', markdownTable(['check', 'limit'], rows)].join('\n');
}

/** The whole `report.md` for a result with an upgrade path. */
/** A projection's central value, 0 when there is none (for ordering). */
function valueOf(m: Projected): number {
  return 'unprojected' in m ? 0 : m.value;
}

/** `sweep --from`: each revision measured at every size and projected (harness/upgrade/sweep-upgrade.ts). */
function sweepSection(result: RunResult): string | null {
  const sweep = result.extra?.upgradeSweep as UpgradeSweep | undefined;
  if (!sweep?.points.length) return null;
  const sizes = sweep.points.map((p) => formatBytes(p.databaseBytes));
  const measured = markdownTable(
    ['revision', ...sizes.map((x) => `duration at ${x}`), ...sizes.map((x) => `WAL at ${x}`)],
    sweep.points[0].revisions.map((r) => [
      markdownCode(r.id),
      ...sweep.points.map((p) => formatDuration(p.revisions.find((x) => x.id === r.id)?.durationMs ?? null)),
      ...sweep.points.map((p) => formatBytes(p.revisions.find((x) => x.id === r.id)?.walBytes ?? null)),
    ]),
    ['l', ...sizes.map(() => 'r' as const), ...sizes.map(() => 'r' as const)],
  );
  const lines = ['## Sweep', '', `The path at ${sizes.join(', ')} of database (every seeded table before the upgrade), each size on a server of its own.`, '', measured];
  if (sweep.projectBytes && sweep.projections.length) {
    const band = (m: Projected, f: (n: number) => string) => ('unprojected' in m ? m.unprojected : `${f(m.value)} (${f(m.low)}–${f(m.high)})`);
    const ordered = [...sweep.projections].sort((a, b) => valueOf(b.durationMs) - valueOf(a.durationMs));
    lines.push(
      '',
      `### Projected to ${formatBytes(sweep.projectBytes)}`,
      '',
      `Each revision's duration, WAL, full-page images and the client memory it added fitted against database size (log-log, with the 80 % band; slope 1 grows with the data). Costliest first. For this machine's speed and this server's settings. ` +
        `noise: under ${formatDuration(FLOORS.durationMs)}, ${formatBytes(FLOORS.walBytes)} of WAL, ${FLOORS.fpi} full-page images or ${formatBytes(FLOORS.rssGrowthBytes)} of memory at some size, which is this machine's noise, not the revision's cost; ` +
        `no trend: the sizes explain under ${MIN_R2 * 100} % of its variation (R²).`,
      '',
      markdownTable(
        ['revision', 'duration', 'slope', 'WAL', 'full-page images', 'client memory added'],
        ordered.map((p) => [
          `${markdownCode(p.id)} ${markdownText(p.message)}`,
          band(p.durationMs, formatLongDuration),
          'unprojected' in p.durationMs ? (p.durationMs.r2 !== undefined ? `R² ${p.durationMs.r2.toFixed(2)}` : '') : `${p.durationMs.slope.toFixed(2)} (R² ${p.durationMs.r2.toFixed(2)})`,
          band(p.walBytes, formatBytes),
          band(p.fpi, (n) => formatCount(Math.round(n))),
          band(p.rssGrowthBytes, formatBytes),
        ]),
        ['l', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
  }
  return lines.join('\n');
}

export function renderUpgradeMarkdown(result: RunResult): string {
  const u = upgradeOf(result);
  const sections: (string | null)[] = [
    header(result, u),
    environmentSection(result, u),
    dataSection(result, u),
    totalsSection(u),
    revisionsSection(u),
    notRunSection(u),
    resumeSection(u),
    sweepSection(result),
    thresholdsSection(u),
    result.warnings.length ? ['## Warnings', '', ...result.warnings.map((w) => `- ⚠️ ${markdownText(w)}`)].join('\n') : null,
    ['## Reproduce', '', markdownFence(result.command, 'sh')].join('\n'),
    '<sub>Figures come from `result.json` next to this file; `npm run harness -- report <result.json>` renders this page again.</sub>',
  ];
  return `${sections.filter((s): s is string => s !== null).join('\n\n')}\n`;
}

// ---------------------------------------------------------------- junit.xml

interface UpgradeCase {
  name: string;
  durationMs: number;
  failure: { message: string; body: string } | null;
}

function checkLine(c: Check): string {
  return `${c.name}: measured ${c.measured}, limit ${c.limit}${c.detail ? ` (${c.detail})` : ''}`;
}

function revisionCase(r: UpgradeRevision): UpgradeCase {
  const failed = failedChecks(r);
  return {
    name: `${r.id} ${r.message}`,
    durationMs: r.durationMs,
    failure: failed.length ? { message: `${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.name).join(', ')}`, body: failed.map(checkLine).join('\n') } : null,
  };
}

function finishesCase(u: UpgradeResult): UpgradeCase {
  const notRun = u.notRun.length ? `\nnot run: ${u.notRun.join(', ')}` : '';
  return {
    name: 'upgrade finishes',
    durationMs: u.durationMs,
    failure: u.outcome === 'failed' ? { message: u.error ?? 'the upgrade failed', body: `${u.error ?? 'the upgrade failed'}; stamp ${u.stamp ?? 'none'}${notRun}` } : null,
  };
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** The JUnit XML document: one testcase per revision run, in path order, then "upgrade finishes". */
export function renderUpgradeJunit(result: RunResult): string {
  const u = upgradeOf(result);
  const cases = [...u.revisions.map(revisionCase), finishesCase(u)];
  const attr = (name: string, value: string) => `${name}="${xmlEscape(value)}"`;
  const classname = `upgrade.${u.from}->${u.to}`;
  const counts = `tests="${cases.length}" failures="${cases.filter((c) => c.failure).length}" errors="0" skipped="0" time="${seconds(u.durationMs)}"`;
  const properties: [string, string][] = [
    ['runId', result.runId],
    ['command', result.command],
    ['checkout', u.checkout],
    ['commit', u.commit ?? 'unknown'],
    ['postgres', `${result.postgres.version} (${result.postgres.provider})`],
    ['alembic environment', u.shape],
  ];
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attr('name', `owui-migration-harness ${result.kind}`)} ${counts}>`,
    `  <testsuite ${attr('name', `upgrade ${u.from} -> ${u.to}`)} ${counts} ${attr('timestamp', result.startedAt)}>`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property ${attr('name', name)} ${attr('value', value)}/>`),
    '    </properties>',
  ];
  for (const c of cases) {
    const open = `    <testcase ${attr('classname', classname)} ${attr('name', c.name)} time="${seconds(c.durationMs)}"`;
    if (!c.failure) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`, `      <failure ${attr('message', c.failure.message)} type="check">${xmlEscape(c.failure.body)}</failure>`, '    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>');
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- chart.svg

const SVG_WIDTH = 960;
const SVG_HEIGHT = 720;
const PLOT = { left: 84, right: SVG_WIDTH - 36 };
/** Revision labels run upwards from here, in the band between the subtitle and the WAL panel. */
const LABEL_BASE = 156;
const WAL_PANEL = { top: 176, bottom: 396 };
const WRITE_PANEL = { top: 446, bottom: 590 };
/** Horizontal room a rotated label needs (font size plus a gap), px. */
const LABEL_PX = 13;
/** Characters of a revision id a label shows: Open WebUI's are 12 hex digits; longer ones are cut to stay in the band. */
const LABEL_CHARS = 14;
/** The costliest revisions are labelled whatever their width. */
const ALWAYS_LABELLED = 3;
const AXIS_TICKS = 4;
const WAL_COLOUR = '#333333';

/** A number for an SVG attribute: at most one decimal, so the same result gives the same bytes. */
function px(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${px(x)}" y="${px(y)}"${attrs ? ` ${attrs}` : ''}>${xmlEscape(content)}</text>`;
}

/** A panel's title, haloed in white: the revision boundaries cross it. */
function panelTitle(panel: { top: number }, title: string): string {
  return text(PLOT.left, panel.top - 8, title, 'font-size="13" stroke="#ffffff" stroke-width="4" paint-order="stroke"');
}

/** Maps ms on the run's clock to x, over 0 to a round number of seconds that holds everything drawn. */
function timeScale(u: UpgradeResult): { x: (ms: number) => number; maxS: number } {
  const lastMs = Math.max(
    1,
    ...u.timeline.map((s) => s.tMs),
    ...u.revisions.map((r) => r.endMs),
    ...u.blockedWrites.map((w) => w.startMs + w.latencyMs),
  );
  const maxS = niceMax(secondsOf(lastMs));
  return { maxS, x: (ms: number) => PLOT.left + (ms / 1000 / maxS) * (PLOT.right - PLOT.left) };
}

/** Gridlines and tick labels of a panel's y axis, 0 to `max`. */
function yAxis(panel: { top: number; bottom: number }, max: number, title: string): string[] {
  const out: string[] = [];
  for (let i = 0; i <= AXIS_TICKS; i++) {
    const y = panel.bottom - (i / AXIS_TICKS) * (panel.bottom - panel.top);
    out.push(`<line x1="${PLOT.left}" y1="${px(y)}" x2="${PLOT.right}" y2="${px(y)}" stroke="#e5e5e5"/>`);
    out.push(text(PLOT.left - 6, y + 4, formatDecimal((max * i) / AXIS_TICKS, 2), 'text-anchor="end" font-size="11"'));
  }
  const mid = (panel.top + panel.bottom) / 2;
  out.push(text(24, mid, title, `font-size="12" text-anchor="middle" transform="rotate(-90 24 ${px(mid)})"`));
  return out;
}

function timeAxis(maxS: number, x: (ms: number) => number): string[] {
  const out: string[] = [];
  for (let i = 0; i <= AXIS_TICKS; i++) {
    const s = (maxS * i) / AXIS_TICKS;
    out.push(text(x(s * 1000), WRITE_PANEL.bottom + 16, formatDecimal(s, 2), 'text-anchor="middle" font-size="11"'));
  }
  out.push(text((PLOT.left + PLOT.right) / 2, WRITE_PANEL.bottom + 36, 'time since the upgrade started (s)', 'text-anchor="middle" font-size="12"'));
  return out;
}

function walLine(u: UpgradeResult, x: (ms: number) => number): string[] {
  const maxMb = niceMax(Math.max(0, ...u.timeline.map((s) => mebibytesOf(s.walBytes))));
  const y = (bytes: number) => WAL_PANEL.bottom - (mebibytesOf(bytes) / maxMb) * (WAL_PANEL.bottom - WAL_PANEL.top);
  const points = u.timeline.map((s) => `${px(x(s.tMs))},${px(y(s.walBytes))}`).join(' ');
  return [
    ...yAxis(WAL_PANEL, maxMb, 'cumulative WAL (MB)'),
    panelTitle(WAL_PANEL, 'Cumulative WAL since the upgrade started (MB)'),
    u.timeline.length
      ? `<polyline fill="none" stroke="${WAL_COLOUR}" stroke-width="2" points="${points}"/>`
      : text((PLOT.left + PLOT.right) / 2, (WAL_PANEL.top + WAL_PANEL.bottom) / 2, 'no WAL samples', 'text-anchor="middle" fill="#999999" font-size="14"'),
  ];
}

function tableColours(u: UpgradeResult): Map<string, string> {
  const tables = [...new Set(u.blockedWrites.map((w) => w.table))].sort();
  return new Map(tables.map((t, i) => [t, PALETTE[i % PALETTE.length]]));
}

/** One bar per blocked write, at its start, as tall as it waited; a write still waiting is hollow. */
function writeBars(u: UpgradeResult, x: (ms: number) => number, colours: Map<string, string>): string[] {
  const maxS = niceMax(Math.max(0, ...u.blockedWrites.map((w) => secondsOf(w.latencyMs))));
  const height = (ms: number) => (ms / 1000 / maxS) * (WRITE_PANEL.bottom - WRITE_PANEL.top);
  const bars = u.blockedWrites.map((w) => {
    const colour = colours.get(w.table)!;
    const fill = w.unfinished ? `fill="none" stroke="${colour}" stroke-dasharray="3 2"` : `fill="${colour}"`;
    const h = Math.max(1, height(w.latencyMs));
    const tip = `${w.table}: ${formatDuration(w.latencyMs)}${w.unfinished ? ' (still waiting)' : ''} at ${formatDuration(w.startMs)}`;
    return `<rect class="blocked-write" x="${px(x(w.startMs) - 1.5)}" y="${px(WRITE_PANEL.bottom - h)}" width="3" height="${px(h)}" ${fill}><title>${xmlEscape(tip)}</title></rect>`;
  });
  return [
    ...yAxis(WRITE_PANEL, maxS, 'write latency (s)'),
    panelTitle(WRITE_PANEL, 'Probe writes that waited at least 100 ms, at their start (s waited)'),
    ...(bars.length ? bars : [text((PLOT.left + PLOT.right) / 2, (WRITE_PANEL.top + WRITE_PANEL.bottom) / 2, 'no write waited', 'text-anchor="middle" fill="#999999" font-size="14"')]),
  ];
}

/**
 * Which revisions get a label, and where: the costliest always (pushed right
 * past a label already there), the rest only when their span leaves room and
 * no label is near. Longest first, so a crowded stretch keeps its costliest.
 */
function labelPositions(u: UpgradeResult, x: (ms: number) => number): Map<string, number> {
  const placed = new Map<string, number>();
  const near = (at: number) => [...placed.values()].some((p) => Math.abs(p - at) < LABEL_PX);
  costliestFirst(u.revisions).forEach((r, rank) => {
    // The baseline of text rotated upwards is its right edge: one font size right of the line keeps the glyphs off it.
    let at = x(r.startMs) + LABEL_PX - 2;
    if (rank < ALWAYS_LABELLED) {
      while (near(at)) at += LABEL_PX;
      placed.set(r.id, at);
    } else if (x(r.endMs) - x(r.startMs) >= LABEL_PX && !near(at)) {
      placed.set(r.id, at);
    }
  });
  return placed;
}

/** A vertical line where each revision starts, across both panels; labels rotated to run upwards. */
function revisionBoundaries(u: UpgradeResult, x: (ms: number) => number): string[] {
  const labels = labelPositions(u, x);
  return u.revisions.flatMap((r) => {
    const at = px(x(r.startMs));
    const line = `<line class="revision-boundary" x1="${at}" y1="${LABEL_BASE}" x2="${at}" y2="${WRITE_PANEL.bottom}" stroke="#b0b0b0" stroke-width="0.75"><title>${xmlEscape(`${r.id} ${r.message}: ${formatDuration(r.durationMs)}`)}</title></line>`;
    const lx = labels.get(r.id);
    if (lx === undefined) return [line];
    const ly = LABEL_BASE - 2;
    const id = r.id.length > LABEL_CHARS ? `${r.id.slice(0, LABEL_CHARS - 1)}…` : r.id;
    return [line, text(lx, ly, id, `class="revision-label" font-size="10" font-family="monospace" transform="rotate(-90 ${px(lx)} ${px(ly)})"`)];
  });
}

function legend(colours: Map<string, string>): string[] {
  const y = WRITE_PANEL.bottom + 60;
  const out = [
    `<line x1="${PLOT.left}" y1="${y - 4}" x2="${PLOT.left + 20}" y2="${y - 4}" stroke="${WAL_COLOUR}" stroke-width="2"/>`,
    text(PLOT.left + 26, y, 'WAL', 'font-size="12"'),
  ];
  let at = PLOT.left + 80;
  for (const [table, colour] of colours) {
    out.push(`<rect x="${at}" y="${y - 10}" width="12" height="12" fill="${colour}"/>`, text(at + 18, y, `write to ${table}`, 'font-size="12"'));
    at += 40 + 7 * `write to ${table}`.length;
  }
  return out;
}

function chartCaption(u: UpgradeResult): string[] {
  const y = SVG_HEIGHT - 30;
  return [
    text(SVG_WIDTH / 2, y, 'Grey lines: a revision starts (labelled: the costliest, and those long enough for a label). Hollow bars: still waiting when the upgrade ended.', 'text-anchor="middle" font-size="11" fill="#333333"'),
    text(SVG_WIDTH / 2, y + 16, `${u.revisions.length} revisions run, ${u.notRun.length} not run; ${outcomeText(u)}`.slice(0, 150), 'text-anchor="middle" font-size="11" fill="#333333"'),
  ];
}

/** The SVG document: WAL over the whole upgrade, the writes it blocked, and where each revision starts. */
export function renderUpgradeChartSvg(result: RunResult): string {
  const u = upgradeOf(result);
  const { x, maxS } = timeScale(u);
  const colours = tableColours(u);
  const subtitle = `${u.checkout}${u.commit ? ` @ ${u.commit.slice(0, 12)}` : ''} · PostgreSQL ${result.postgres.version} via ${result.postgres.provider} · ${formatDuration(u.durationMs)}`;
  const body = [
    `<rect width="${SVG_WIDTH}" height="${SVG_HEIGHT}" fill="#ffffff"/>`,
    text(SVG_WIDTH / 2, 26, `Upgrade ${u.from} -> ${u.to}: WAL and blocked writes`, 'text-anchor="middle" font-size="18"'),
    text(SVG_WIDTH / 2, 46, subtitle.slice(0, 150), 'text-anchor="middle" font-size="12" fill="#555555"'),
    // Boundaries first, so the data and the panel titles are drawn over them.
    ...revisionBoundaries(u, x),
    ...walLine(u, x),
    ...writeBars(u, x, colours),
    ...timeAxis(maxS, x),
    ...legend(colours),
    ...chartCaption(u),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${SVG_WIDTH}" height="${SVG_HEIGHT}" viewBox="0 0 ${SVG_WIDTH} ${SVG_HEIGHT}" font-family="sans-serif">`,
    ...body.map((line) => `  ${line}`),
    '</svg>',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- terminal

/** A few lines for the end of a run: outcome, totals, the revisions that failed checks (costliest first). */
export function renderUpgradeTerminal(result: RunResult): string {
  const u = upgradeOf(result);
  const t = u.totals;
  const counts = checkCounts(u);
  const lines = [
    `upgrade ${u.from} -> ${u.to}: ${outcomeText(u)} (${u.revisions.length} revisions in ${formatDuration(u.durationMs)}${u.notRun.length ? `, ${u.notRun.length} not run` : ''})`,
    `WAL ${formatBytes(t.walBytes)} · ${formatCount(t.fpi)} FPI · ${formatCount(t.checkpoints)} checkpoints · peak RSS ${formatBytes(t.peakRssBytes)} · longest blocked write ${t.longestBlockedWrite ? `${formatDuration(t.longestBlockedWrite.ms)} on ${t.longestBlockedWrite.table}` : 'none'}`,
  ];
  if (counts.total) lines.push(`checks: ${counts.failed} of ${counts.total} failed`);
  for (const r of costliestFirst(u.revisions)) {
    for (const c of failedChecks(r)) lines.push(`  ✗ ${r.id} (${r.message}, ${formatDuration(r.durationMs)}) ${c.name}: measured ${c.measured}, limit ${c.limit}`);
  }
  const sweep = result.extra?.upgradeSweep as UpgradeSweep | undefined;
  if (sweep?.projectBytes && sweep.projections.length) {
    lines.push(`projected to ${formatBytes(sweep.projectBytes)} (costliest first; the 80 % band in report.md):`);
    const ordered = [...sweep.projections].filter((p) => !('unprojected' in p.durationMs)).sort((a, b) => valueOf(b.durationMs) - valueOf(a.durationMs));
    for (const p of ordered.slice(0, TERMINAL_PROJECTIONS))
      lines.push(`  ${p.id} (${p.message}): ${formatLongDuration(valueOf(p.durationMs))}, WAL ${'unprojected' in p.walBytes ? p.walBytes.unprojected : formatBytes(p.walBytes.value)}`);
  }
  if (result.warnings.length) lines.push(`${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'}: see report.md`);
  return lines.join('\n');
}

/** Projected revisions the terminal lists; the report has them all. */
const TERMINAL_PROJECTIONS = 5;
