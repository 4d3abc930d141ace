/**
 * One strategy's part of `report.md`: how each attempt ended, then every
 * figure measured, then what verification found.
 */
import { CLIENT_MEMORY_OF, type StrategyResult } from '../result/run-result.ts';
import { formatBytes, formatDuration } from '../units.ts';
import { markdownCode, markdownFence, markdownTable, markdownText } from './markdown.ts';
import { formatCount, formatRatio } from './number-format.ts';
import { silentDataLoss } from './summarize-run.ts';

/** How many per-row failures the report lists before "and N more". */
const FAILURES_LISTED = 10;

function yesNo(value: boolean | null, yes = 'yes', no = 'no'): string {
  return value === null ? 'n/a' : value ? yes : no;
}

function attemptsTable(s: StrategyResult): string {
  if (s.attempts.length === 0) return '_No attempt started._';
  // A sequence names what each start ran; the WAL of each attempt is what a restart costs.
  const ran = s.attempts.some((a) => a.strategy !== undefined);
  const wal = s.attempts.some((a) => a.walBytes !== undefined);
  const cols: { head: string; align: 'l' | 'r'; cell: (a: StrategyResult['attempts'][number]) => string; when?: boolean }[] = [
    { head: '#', align: 'r', cell: (a) => String(a.n) },
    { head: 'ran', align: 'l', cell: (a) => (a.strategy ? markdownCode(a.strategy) : ''), when: ran },
    { head: 'started', align: 'r', cell: (a) => formatDuration(a.startMs) },
    { head: 'duration', align: 'r', cell: (a) => formatDuration(a.durationMs) },
    { head: 'WAL', align: 'r', cell: (a) => (a.walBytes === undefined ? '' : formatBytes(a.walBytes)), when: wal },
    { head: 'ended', align: 'l', cell: (a) => a.ended },
    { head: 'rows written', align: 'r', cell: (a) => formatCount(a.rowsWritten) },
    { head: 'rows kept', align: 'r', cell: (a) => (a.rowsKept === null ? 'no table' : formatCount(a.rowsKept)) },
    { head: 'alembic', align: 'l', cell: (a) => (a.alembicVersion ? markdownCode(a.alembicVersion) : 'none') },
    { head: 'error', align: 'l', cell: (a) => (a.error ? markdownText(a.error) : '') },
  ];
  const shown = cols.filter((c) => c.when !== false);
  return markdownTable(
    shown.map((c) => c.head),
    s.attempts.map((a) => shown.map((c) => c.cell(a))),
    shown.map((c) => c.align),
  );
}

/** Exit 0, stamped, rows missing: what that means, in words. */
function silentDataLossText(s: StrategyResult): string | null {
  if (!silentDataLoss(s)) return null;
  const last = s.attempts.at(-1);
  const schema = [
    s.schema.indexesMissing.length ? `${s.schema.indexesMissing.length} of its 7 indexes are missing` : null,
    !s.schema.fkPresent ? 'its foreign key to chat is missing' : !s.schema.fkValidated ? 'its foreign key was never validated' : null,
  ].filter((x): x is string => x !== null);
  return (
    `**Silent data loss.** The last start${last?.strategy ? ` (${markdownCode(last.strategy)})` : ''} exited 0 without an error and the revision is stamped ` +
    `(${markdownCode(s.alembicVersion ?? 'none')}), so Open WebUI will not run this migration again: ${formatCount(s.rows.missing)} of ${formatCount(s.rows.expected)} ` +
    `expected rows are not in \`chat_message\` and never will be${schema.length ? `; ${schema.join(' and ')}` : ''}.`
  );
}

/** Chats a proposal skipped, and why we recommend upstream does the same. */
function skippedChatsList(s: StrategyResult): string | null {
  if (!s.skippedChats?.length) return null;
  const listed = s.skippedChats.slice(0, FAILURES_LISTED).map((c) => `- chat ${markdownCode(c.chatId)}: ${markdownText(c.reason)}`);
  const more = s.skippedChats.length > FAILURES_LISTED ? [`- and ${formatCount(s.skippedChats.length - FAILURES_LISTED)} more`] : [];
  return [
    `Chats skipped, not migrated: their document is not an object, so upstream's migration raises there and the whole upgrade fails, at every start. ` +
      `This strategy skips such a chat, logs it and reports it here, and migrates the rest: that is the behaviour we recommend upstream adopts.`,
    '',
    ...listed,
    ...more,
  ].join('\n');
}

/** The migration backends' cost as /proc counted it: minor faults (major ones when any) and CPU, user + system. */
function backendText(b: NonNullable<StrategyResult['backendProcesses']>): string {
  const major = b.majorFaults ? ` + ${formatCount(b.majorFaults)} major` : '';
  return `${formatCount(b.minorFaults)} minor${major} · ${formatDuration(b.userMs)} user + ${formatDuration(b.systemMs)} system, ${formatCount(b.backends)} backend${b.backends === 1 ? '' : 's'}`;
}

function figuresTable(s: StrategyResult): string {
  const ws = s.writeStall;
  const rows: [string, string][] = [
    ['duration', formatDuration(s.durationMs)],
    ['phases', s.phases.length ? s.phases.map((p) => `${p.name} ${formatDuration(p.durationMs)}`).join(' · ') : 'n/a'],
    ['WAL bytes', `${formatBytes(s.wal.bytes)} (${formatCount(s.wal.bytes)} B; pg_stat_wal ${formatBytes(s.wal.statBytes)})`],
    ['WAL records', formatCount(s.wal.records)],
    ['full-page images', formatCount(s.wal.fpi)],
    [
      'WAL amplification',
      s.walAmplification === null ? 'n/a' : `${formatRatio(s.walAmplification)}× the size of chat_message (${formatBytes(s.chatMessageBytes)})`,
    ],
    [
      'checkpoints timed / requested',
      `${formatCount(s.checkpoints.timed)} / ${formatCount(s.checkpoints.requested)}${s.checkpoints.completed !== undefined ? ` (${formatCount(s.checkpoints.completed)} completed, by redo pointer)` : ''}`,
    ],
    ['peak pg_wal', formatBytes(s.peakWalDirBytes)],
    ['longest transaction', formatDuration(s.longestTransactionMs)],
    ['locks on chat', s.locksOnChat.length ? s.locksOnChat.join(', ') : 'none'],
    [
      'write probes to chat',
      `${formatCount(ws.probes)} · p50 ${formatDuration(ws.p50Ms)} · p99 ${formatDuration(ws.p99Ms)} · max ${formatDuration(ws.maxMs)}`,
    ],
    ['probe timeouts / over 1 s', `${formatCount(ws.timeouts)} / ${formatCount(ws.over1s)}`],
    ['writes to chat blocked (longest)', formatDuration(ws.longestBlockedMs)],
    ['probe WAL (subtracted)', `${formatBytes(ws.wal.bytes)} · ${formatCount(ws.wal.records)} records · ${formatCount(ws.wal.fpi)} FPI`],
    ['client peak RSS', `${formatBytes(s.clientPeakRssBytes)}${s.clientPeakRssOf ? ` (${CLIENT_MEMORY_OF[s.clientPeakRssOf]})` : ''}`],
    ...(s.backendProcesses ? ([['migration backends (page faults · CPU)', backendText(s.backendProcesses)]] as [string, string][]) : []),
    ['rows inserted / expected', `${formatCount(s.rows.inserted)} / ${formatCount(s.rows.expected)}`],
    ['rows missing / unexpected / mismatched', `${formatCount(s.rows.missing)} / ${formatCount(s.rows.unexpected)} / ${formatCount(s.rows.mismatched)}`],
    ['expected failures (absent as they should be)', formatCount(s.rows.expectedFailures)],
    ['rows lost to rollbacks', formatCount(s.rowsLost)],
    ['checksum', s.rows.checksum ? markdownCode(s.rows.checksum) : 'n/a'],
    ['chat_message table', s.schema.tableExists ? `exists, ${formatBytes(s.chatMessageBytes)}` : 'absent'],
    ['indexes missing', s.schema.indexesMissing.length ? s.schema.indexesMissing.join(', ') : 'none'],
    ['FK present / validated', `${yesNo(s.schema.fkPresent)} / ${yesNo(s.schema.fkValidated)}`],
    ['database untouched after failure', yesNo(s.schema.untouched)],
    ['alembic version', s.alembicVersion ? markdownCode(s.alembicVersion) : 'none'],
    ...(s.stamp ? ([['at the next start', markdownText(s.stamp.nextStart)]] as [string, string][]) : []),
    ['verified', s.verified ? '✅ yes' : '❌ no'],
  ];
  return markdownTable(['figure', 'value'], rows);
}

/** Where it ran: the Alembic environment, and for `upstream` the checkout and the Python. */
function environmentLine(s: StrategyResult): string | null {
  const parts: string[] = [];
  if (s.alembic) {
    const via = s.alembic.commitVia === 'autocommit-block' ? '; commits through Alembic’s autocommit_block() (the change to propose upstream: it keeps the stamp in every environment)' : '';
    parts.push(
      `Alembic environment: **${s.alembic.shape === 'single' ? 'one transaction around the run' : 'a transaction per revision'}**, ${s.alembic.target === 'head' ? 'a revision follows it in the same run (upgrade to head)' : 'the last revision run'} — ${markdownText(s.alembic.why)}${via}.`,
    );
  }
  const u = s.upstream;
  if (u) {
    parts.push(
      `Upstream's code: ${markdownCode(u.revisionFile)}${u.commit ? ` at ${markdownCode(u.commit)}` : ''} (${u.port ? `stands for the port ${markdownCode(u.port)}: ${markdownText(u.portWhy)}` : markdownText(u.portWhy)}); ` +
        `run by Python ${u.python.version} (${markdownCode(u.python.executable)}, ${u.python.source}) with alembic ${u.python.alembic}, SQLAlchemy ${u.python.sqlalchemy}, psycopg2 ${u.python.psycopg2}.`,
    );
  }
  return parts.length ? parts.join('\n\n') : null;
}

function failuresList(s: StrategyResult): string | null {
  if (s.failures.length === 0) return null;
  const listed = s.failures.slice(0, FAILURES_LISTED).map((f) => `- ${markdownCode(f.id)}: ${markdownText(f.reason)}`);
  const more = s.failures.length > FAILURES_LISTED ? [`- and ${formatCount(s.failures.length - FAILURES_LISTED)} more`] : [];
  return [`Messages that failed alone and were skipped (as upstream does):`, '', ...listed, ...more].join('\n');
}

function outputBlock(s: StrategyResult): string | null {
  if (!s.output) return null;
  const parts = [
    `<details><summary>Output of the command (exit code ${s.output.exitCode ?? 'none'})</summary>`,
    '',
    ...(s.output.stdout ? ['stdout:', '', markdownFence(s.output.stdout, 'text'), ''] : []),
    ...(s.output.stderr ? ['stderr:', '', markdownFence(s.output.stderr, 'text'), ''] : []),
    '</details>',
  ];
  return parts.join('\n');
}

/** The section (starting with `### name`). */
export function renderStrategySection(s: StrategyResult): string {
  const verdict =
    s.outcome === 'failed' ? '❌ failed' : silentDataLoss(s) ? '❌ silent data loss' : s.verified ? '✅ succeeded, verified' : '⚠️ succeeded, not verified';
  const parts: (string | null)[] = [
    `### ${s.name}: ${verdict}`,
    s.summary ? `_${markdownText(s.summary)}_` : null,
    environmentLine(s),
    s.error ? `**Error:** ${markdownCode(s.error)}` : null,
    silentDataLossText(s),
    attemptsTable(s),
    figuresTable(s),
    skippedChatsList(s),
    failuresList(s),
    outputBlock(s),
    s.kept ? `Database kept (\`--keep\`): ${markdownCode(s.kept.database)} at ${markdownCode(s.kept.url)}` : null,
    s.warnings.length ? ['Warnings:', '', ...s.warnings.map((w) => `- ⚠️ ${markdownText(w)}`)].join('\n') : null,
  ];
  return parts.filter((p): p is string => p !== null).join('\n\n');
}
