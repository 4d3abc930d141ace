import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gateChecks } from '../../harness/gate/gate-checks.ts';
import { renderChartSvg, renderJunit, renderMarkdown, renderTerminal, reportCommand, resampleTimeline, writeReports } from '../../harness/report/index.ts';
import type { RunResult, Sample } from '../../harness/result/run-result.ts';
import { validateResult } from '../../harness/result/validate-result.ts';
import { formatBytes } from '../../harness/units.ts';
import { checkCauses } from '../../harness/report/render-sweep.ts';
import type { ProjectionCheck } from '../../harness/result/sweep-points.ts';

// Update the goldens with: npx vitest run test/unit/report-render.test.ts -u
const FIXTURES = ['repro', 'gate', 'sweep', 'interrupted'] as const;
type FixtureName = (typeof FIXTURES)[number];
const fixtureDir = join(import.meta.dirname, '../fixtures/results');

async function fixture(name: FixtureName): Promise<RunResult> {
  const checked = validateResult(JSON.parse(await readFile(join(fixtureDir, `${name}.json`), 'utf8')));
  if (!checked.ok) throw new Error(`fixture ${name} does not validate: ${checked.errors.join('; ')}`);
  return checked.result;
}

/**
 * Well-formedness of an XML document, without a parser dependency: one root,
 * balanced tags, quoted attributes without duplicates, `&` only in entities,
 * no `<` in text or attributes. Returns the problems found.
 */
function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const badAmp = (text: string) => text.replace(entity, '').includes('&');
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  for (const [token] of body.matchAll(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<[^>]*>|[^<]+/g)) {
    if (token.startsWith('<![CDATA[') || token.startsWith('<!--')) continue;
    if (!token.startsWith('<')) {
      if (stack.length === 0 && token.trim()) problems.push(`text outside the root: ${token.slice(0, 40)}`);
      if (badAmp(token)) problems.push(`bare & in text: ${token.slice(0, 60)}`);
      continue;
    }
    const close = /^<\/([A-Za-z_][\w:.-]*)\s*>$/.exec(token);
    if (close) {
      const open = stack.pop();
      if (open !== close[1]) problems.push(`</${close[1]}> closes <${open}>`);
      continue;
    }
    const open = /^<([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>$/.exec(token);
    if (!open) {
      problems.push(`malformed tag: ${token.slice(0, 80)}`);
      continue;
    }
    const names = [...open[2].matchAll(/([A-Za-z_][\w:.-]*)\s*=/g)].map((m) => m[1]);
    if (new Set(names).size !== names.length) problems.push(`duplicate attribute in ${token.slice(0, 80)}`);
    if (badAmp(open[2])) problems.push(`bare & in attribute: ${token.slice(0, 80)}`);
    if (stack.length === 0) roots++;
    if (!open[3]) stack.push(open[1]);
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}

/** Every ```mermaid block of a Markdown document. */
function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The parts of an xychart-beta block; throws when its shape is wrong. */
function parseXyChart(block: string): { xMin: number | null; xMax: number | null; categories: string[] | null; yMax: number; lines: number[][] } {
  const rows = block.trimEnd().split('\n');
  expect(rows[0]).toBe('xychart-beta');
  const x = rows.find((r) => /^\s+x-axis /.test(r));
  const y = rows.find((r) => /^\s+y-axis /.test(r));
  expect(x, 'x-axis line').toBeDefined();
  expect(y, 'y-axis line').toBeDefined();
  const range = /^\s+x-axis "[^"]*" (-?[\d.]+) --> (-?[\d.]+)$/.exec(x!);
  const band = /^\s+x-axis "[^"]*" \[(.*)\]$/.exec(x!);
  expect(range || band, `x-axis shape: ${x}`).toBeTruthy();
  const yRange = /^\s+y-axis "[^"]*" 0 --> ([\d.]+)$/.exec(y!);
  expect(yRange, `y-axis shape: ${y}`).toBeTruthy();
  const lines = rows
    .filter((r) => /^\s+line /.test(r))
    .map((r) => {
      const m = /^\s+line \[(.*)\]$/.exec(r);
      expect(m, `line shape: ${r}`).toBeTruthy();
      return m![1].split(', ').map((v) => {
        expect(v).toMatch(/^-?\d+(\.\d+)?$/);
        return Number(v);
      });
    });
  for (const r of rows.slice(1)) expect(r).toMatch(/^\s+(title|x-axis|y-axis|line|bar) /);
  return {
    xMin: range ? Number(range[1]) : null,
    xMax: range ? Number(range[2]) : null,
    categories: band ? band[1].split(', ') : null,
    yMax: Number(yRange![1]),
    lines,
  };
}

describe.each(FIXTURES)('the %s fixture', (name) => {
  it('renders report.md as the golden', async () => {
    await expect(renderMarkdown(await fixture(name))).toMatchFileSnapshot(`../golden/report-${name}.md`);
  });

  it('renders chart.svg as the golden', async () => {
    await expect(renderChartSvg(await fixture(name))).toMatchFileSnapshot(`../golden/chart-${name}.svg`);
  });

  it('renders junit.xml as the golden', async () => {
    await expect(renderJunit(await fixture(name))).toMatchFileSnapshot(`../golden/junit-${name}.xml`);
  });

  it('renders the terminal summary as the golden', async () => {
    await expect(renderTerminal(await fixture(name), { color: false })).toMatchFileSnapshot(`../golden/terminal-${name}.txt`);
  });

  it('renders a well-formed SVG and JUnit document', async () => {
    const r = await fixture(name);
    expect(xmlProblems(renderChartSvg(r))).toEqual([]);
    expect(xmlProblems(renderJunit(r))).toEqual([]);
  });

  it('renders every mermaid block as an xychart-beta of at most 40 points per line', async () => {
    for (const block of mermaidBlocks(renderMarkdown(await fixture(name)))) {
      const chart = parseXyChart(block);
      expect(chart.lines.length).toBeGreaterThan(0);
      const points = chart.lines[0].length;
      for (const line of chart.lines) {
        expect(line.length).toBe(points);
        expect(line.length).toBeLessThanOrEqual(40);
        for (const v of line) expect(v).toBeLessThanOrEqual(chart.yMax);
      }
      if (chart.categories) expect(chart.categories.length).toBe(points);
    }
  });
});

describe('report.md of the repro fixture', () => {
  it('says how much less WAL chunked wrote, from the fixture figures', async () => {
    const r = await fixture('repro');
    const [original, chunked] = r.strategies;
    const ratio = (original.wal.bytes / chunked.wal.bytes).toFixed(2);
    expect(ratio).toBe('1.45');
    expect(renderMarkdown(r)).toContain(
      `chunked wrote ${ratio}× less WAL than original (${formatBytes(chunked.wal.bytes)} vs ${formatBytes(original.wal.bytes)}; original did not finish)`,
    );
  });

  it('says "more WAL" when the figures are the other way round', async () => {
    const r = structuredClone(await fixture('repro'));
    const [original, chunked] = r.strategies;
    [original.wal.bytes, chunked.wal.bytes] = [chunked.wal.bytes, original.wal.bytes];
    expect(renderMarkdown(r)).toContain('chunked wrote 1.45× more WAL than original');
  });

  it("does not compare a strategy with its gate resume-check run, but still compares strategies", async () => {
    const r = structuredClone(await fixture('repro'));
    const [original, chunked] = r.strategies;
    r.strategies = [chunked, { ...structuredClone(chunked), name: 'chunked:resume' }];
    expect(renderMarkdown(r)).not.toMatch(/chunked:resume (wrote|ran)|than chunked:resume/);
    r.strategies = [original, chunked, { ...structuredClone(chunked), name: 'chunked:resume' }];
    const md = renderMarkdown(r);
    expect(md).toContain('chunked wrote');
    expect(md).not.toMatch(/chunked:resume (wrote|ran)|than chunked:resume/);
  });

  it('gives each strategy a verdict line', async () => {
    const md = renderMarkdown(await fixture('repro'));
    expect(md).toContain('original  FAILED after 4 attempts (deadline) · 0 rows kept (no chat_message table) · stamp 374d2f66af06');
    expect(md).toContain('chunked   succeeded in 2 attempts · 2 min 27 s · 41,023 rows verified');
  });

  it('says the original never finished instead of comparing durations', async () => {
    const md = renderMarkdown(await fixture('repro'));
    expect(md).toContain('original never finished (stopped after 4 attempts, 6 min 3 s); chunked finished in 2 min 27 s');
    expect(md).not.toMatch(/ran [\d.]+× faster/);
  });

  it('compares durations when both succeeded', async () => {
    const r = structuredClone(await fixture('repro'));
    r.strategies[0].outcome = 'succeeded';
    r.strategies[0].durationMs = r.strategies[1].durationMs * 3;
    expect(renderMarkdown(r)).toContain('chunked ran 3.00× faster than original (2 min 27 s vs 7 min 20 s)');
  });

  it('says which strategy blocked writes to chat, and for how long', async () => {
    expect(renderMarkdown(await fixture('repro'))).toContain('original blocked writes to chat for 1 min 30 s (longest); chunked: 118 ms');
  });

  it('charts cumulative WAL ending at each strategy’s total, and names the lines under the chart', async () => {
    const r = await fixture('repro');
    const md = renderMarkdown(r);
    const [block] = mermaidBlocks(md);
    const chart = parseXyChart(block);
    expect(chart.lines).toHaveLength(2);
    const mb = (bytes: number) => Math.round((bytes / 1024 ** 2) * 10) / 10;
    expect(chart.lines[0].at(-1)).toBe(mb(r.strategies[0].timeline.at(-1)!.walBytes));
    expect(chart.lines[1].at(-1)).toBe(mb(r.strategies[1].timeline.at(-1)!.walBytes));
    expect(chart.lines[0][0]).toBe(0);
    expect(chart.xMin).toBe(0);
    expect(chart.xMax).toBeGreaterThanOrEqual(r.strategies[0].durationMs / 1000);
    expect(md).toContain('Lines, in order: original (ends at 1,515.5 MB), chunked (ends at 1,044.5 MB)');
  });

  it('shows settings as reported, with the requested value where it differs', async () => {
    const md = renderMarkdown(await fixture('repro'));
    expect(md).toContain('| `wal_compression` | `pglz` | `on` |');
    expect(md).toContain('| `max_wal_size` | `64MB` |  |');
  });

  it('escapes free text that would otherwise be read as Markdown or HTML', async () => {
    const r = structuredClone(await fixture('repro'));
    r.warnings = ['pg_wal <b>grew</b> & *kept* growing | see [logs](x)'];
    const md = renderMarkdown(r);
    expect(md).toContain('- ⚠️ pg\\_wal \\<b\\>grew\\</b\\> \\& \\*kept\\* growing | see \\[logs\\](x)');
  });
});

describe('the other reports', () => {
  it('JUnit has one testcase per check and as many failures as failed checks', async () => {
    const r = await fixture('gate');
    const xml = renderJunit(r);
    const failed = r.checks!.filter((c) => !c.passed).length;
    expect(failed).toBe(3);
    expect(xml).toContain(`<testsuite name="owui-migration-harness gate" tests="${r.checks!.length}" failures="${failed}" errors="0"`);
    expect(xml.match(/<testcase /g)).toHaveLength(r.checks!.length);
    expect(xml.match(/<failure /g)).toHaveLength(failed);
    expect(xml).toContain('<testcase classname="original" name="write-stall-max">');
    expect(xml).toContain('<failure message="measured 41.0 s blocked, limit &lt;= 5 s" type="check">');
    expect(xml).toContain('waited on &lt;ShareRowExclusiveLock&gt; held by the migration &amp; timed out');
  });

  it('JUnit without checks has one testcase per strategy, failing unless it succeeded and verified', async () => {
    const xml = renderJunit(await fixture('repro'));
    expect(xml).toContain('tests="2" failures="1" errors="0"');
    expect(xml).toContain('<testcase classname="chunked" name="succeeds and verifies"/>');
    expect(xml).toContain('<failure message="measured failed and not verified, limit succeeded and verified" type="check">');
  });

  it('JUnit reports an interrupted run as an error', async () => {
    const xml = renderJunit(await fixture('interrupted'));
    expect(xml).toContain('tests="1" failures="0" errors="1"');
    expect(xml).toContain('<error message="run interrupted at seeding" type="run">interrupted by SIGINT</error>');
  });

  it('the SVG names every strategy in its legend and the scenario in its title', async () => {
    const r = await fixture('repro');
    const svg = renderChartSvg(r);
    expect(svg.startsWith('<svg ')).toBe(true);
    for (const s of r.strategies) expect(svg).toContain(`>${s.name}</text>`);
    expect(svg).toContain('>headline: WAL and rows over time</text>');
    expect(svg).toContain('>original #4</text>');
    expect(svg).not.toMatch(/zr[1-9]\d*-/);
  });

  it('the SVG is the same whatever the process drew before', async () => {
    const r = await fixture('gate');
    const first = renderChartSvg(r);
    renderChartSvg(await fixture('repro'));
    expect(renderChartSvg(r)).toBe(first);
  });

  it('an interrupted run still renders everything, saying nothing ran', async () => {
    const r = await fixture('interrupted');
    const md = renderMarkdown(r);
    expect(md).toContain('**Status:** ⚠️ interrupted at seeding: interrupted by SIGINT');
    expect(md).toContain('_No strategy ran: the run stopped at seeding._');
    expect(md).toContain('_No dataset (the run stopped at seeding)._');
    expect(mermaidBlocks(md)).toEqual([]);
    expect(renderChartSvg(r)).toContain('No strategy ran: nothing was measured');
    expect(renderTerminal(r, { color: false })).toBe('run interrupted at seeding: interrupted by SIGINT\nno strategy ran\n\n1 warning: see report.md');
  });

  it('the sweep report has the per-GB table, its charts, and projections said to be projections', async () => {
    const r = await fixture('sweep');
    const md = renderMarkdown(r);
    expect(md).toContain('## Sweep: cost per GB against size');
    expect(md).toContain('| chunked | 256 MB | ✅ succeeded | 1 min 44 s | 6 min 56 s | 2.05 GB | 8.18 GB | 85,437 | 341,748 |');
    expect(md).toContain("These are projections, not measurements: figures extrapolated from the sizes this run measured, for this machine's speed");
    expect(md).toMatch(/\| setbased \| 68\.0 GB \| 2 h 19 min \(2 h 2 min – 2 h 53 min\) \|/);
    const charts = mermaidBlocks(md).map(parseXyChart);
    expect(charts).toHaveLength(3);
    expect(charts[1].categories).toEqual(['"32.0 MB"', '"64.0 MB"', '"128 MB"', '"256 MB"']);
    expect(charts[1].lines).toHaveLength(3);
    expect(md).toContain('compared: the runs on the largest dataset (87,410 rows); the sweep section has every size');
    expect(md).toContain('### chunked (87,410 rows): ✅ succeeded, verified');
  });

  /** A projection check at 1 GB, as `sweep --check-projection` keeps it. */
  const check = {
    strategy: 'chunked',
    sizeBytes: 1024 ** 3,
    projectedDurationMs: 410_000,
    measuredDurationMs: 400_000,
    durationErrorPct: 2.5,
    projectedWalBytes: 8 * 1024 ** 3,
    measuredWalBytes: 8.5 * 1024 ** 3,
    walErrorPct: -5.88,
  };

  it('the sweep report shows a projection check when the sweep kept one', async () => {
    const r = structuredClone(await fixture('sweep'));
    (r.extra!.sweep as Record<string, unknown>).projectionCheck = [check];
    expect(renderMarkdown(r)).toContain('| chunked | 1.00 GB | 6 min 50 s | 6 min 40 s | +2.5 % | 8.00 GB | 8.50 GB | −5.9 % |');
  });

  it('a repeated projection check (--check-repeat) lists the range of its runs, and ignores runs that are not numbers', async () => {
    const r = structuredClone(await fixture('sweep'));
    const repeated = { ...check, measuredRuns: { durationMs: [430_000, 400_000], walBytes: [8.4 * 1024 ** 3, 8.6 * 1024 ** 3], fpi: [1200, 1500] } };
    (r.extra!.sweep as Record<string, unknown>).projectionCheck = [repeated, { ...check, strategy: 'original', measuredRuns: { durationMs: ['x', 1], walBytes: [1, 2], fpi: [1, 2] } }];
    const md = renderMarkdown(r);
    expect(md).toContain('sweep --check-repeat');
    expect(md).toContain('- chunked at 1.00 GB, 2 runs: duration 6 min 40 s – 7 min 10 s, WAL 8.40 GB – 8.60 GB, full-page images 1,200 – 1,500');
    expect(md).not.toMatch(/- original at 1\.00 GB, 2 runs/);
  });

  it("a projection check says how far apart its run's checkpoints came against the projection, and autovacuum's passes in each run", async () => {
    const r = structuredClone(await fixture('sweep'));
    const MB = 1024 ** 2;
    (r.extra!.sweep as Record<string, unknown>).projectionCheck = [
      { ...check, checkpointSpacing: { projectedBytes: 38 * MB, measuredBytes: 36 * MB }, autovacuumPasses: [{ heap: 2, toast: 2 }] },
      { ...check, strategy: 'original', autovacuumPasses: [{ heap: 0, toast: 0 }, { heap: 1, toast: 0 }] },
      { ...check, strategy: 'setbased' },
    ];
    const md = renderMarkdown(r);
    expect(md).toContain('- chunked at 1.00 GB: checkpoints 36.0 MB apart, 38.0 MB projected (+5.6 %); autovacuum passes 2 over chat_message, 2 over its TOAST table');
    expect(md).toContain('- original at 1.00 GB: autovacuum passes per run: 0 over chat_message, 0 over its TOAST table; 1 over chat_message, 0 over its TOAST table');
    // A check that recorded neither (an older result) has no line.
    expect(md).not.toMatch(/- setbased at 1\.00 GB:/);
    expect(checkCauses(check as ProjectionCheck)).toBeNull();
  });

  it("a projection check sets the migration backends' page faults per MiB against those at the largest point", () => {
    const c = { ...check, backendFaultsPerMB: { pointSizeBytes: 512 * 1024 ** 2, point: 690.4, measured: 118.6 } } as ProjectionCheck;
    expect(checkCauses(c)).toBe("chunked at 1.00 GB: the migration backends' page faults per MiB of chat 119, 690 at 512 MB");
  });

  it('a projection check with speed floors adds the duration error at one speed, and the floors beside the check and the points', async () => {
    const r = structuredClone(await fixture('sweep'));
    const floored = { ...check, atSpeedFloor: { measuredFloorMs: 342.1, pointFloorsMs: [364, 329.9, 336.7], projectedDurationMs: 420_000, durationErrorPct: 5.0 } } as ProjectionCheck;
    (r.extra!.sweep as Record<string, unknown>).projectionCheck = [floored, { ...check, strategy: 'original' }];
    const md = renderMarkdown(r);
    expect(md).toContain('| chunked | 1.00 GB | 6 min 50 s | 6 min 40 s | +2.5 % | +5.0 % | 8.00 GB | 8.50 GB | −5.9 % |');
    // A check without floors (an older result, or a floor not read) has a dash there.
    expect(md).toContain('| original | 1.00 GB | 6 min 50 s | 6 min 40 s | +2.5 % | – | 8.00 GB |');
    expect(md).toContain('"At one speed"');
    expect(checkCauses(floored)).toBe("chunked at 1.00 GB: speed floor 342 ms beside the check, 364, 330, 337 ms beside the points' runs (smallest size first)");
    // Without any floor, no such column.
    (r.extra!.sweep as Record<string, unknown>).projectionCheck = [check];
    expect(renderMarkdown(r)).not.toContain('at one speed');
  });

  it('the terminal summary is colourless unless asked', async () => {
    const r = await fixture('gate');
    const plain = renderTerminal(r, { color: false });
    expect(plain).not.toContain('\x1b[');
    expect(plain).toContain('checks: 3 of 7 failed');
    expect(plain).toContain('✗ original write-stall-max: measured 41.0 s blocked, limit <= 5 s');
    const coloured = renderTerminal(r, { color: true });
    expect(coloured).toContain('\x1b[31mFAILED after 1 attempt (wal-limit)');
    expect(coloured.replace(/\x1b\[\d+m/g, '')).toBe(plain);
  });
});

describe('the hazards in the reports', () => {
  /** The repro fixture's chunked as the mixed-upgrade scenario leaves it: the fix killed, then v0.9.6 stamping. */
  async function silentlyIncomplete(): Promise<RunResult> {
    const r = structuredClone(await fixture('repro'));
    const s = r.strategies[1];
    s.name = 'chunked>v0.9.6';
    s.attempts = [
      { ...s.attempts[0], ended: 'killed', strategy: 'chunked', rowsKept: 20_000, alembicVersion: '374d2f66af06', walBytes: 50 * 1024 ** 2 },
      { ...s.attempts[1], n: 2, ended: 'completed', error: null, strategy: 'v0.9.6', rowsWritten: 0, rowsKept: 20_000, alembicVersion: 'harness_after_8452d01d26d7', walBytes: 100_000 },
    ];
    s.outcome = 'succeeded';
    s.verified = false;
    s.alembicVersion = '8452d01d26d7';
    s.stamp = { raw: 'harness_after_8452d01d26d7', verdict: 'stamped', followingKept: true, nextStart: 'stamped 8452d01d26d7: the next start does not run it again' };
    s.rows = { ...s.rows, inserted: 20_000, missing: s.rows.expected - 20_000 };
    s.schema = { tableExists: true, indexesMissing: ['ix_chat_message_chat_id', 'ix_chat_message_user_id', 'ix_chat_message_model_id', 'ix_chat_message_created_at', 'chat_message_chat_parent_idx', 'chat_message_model_created_idx', 'chat_message_user_created_idx'], fkPresent: false, fkValidated: false, untouched: false };
    r.strategies = [s];
    return r;
  }

  it('a migration that exits 0 and stamps with rows missing: "silent data loss", the rows missing for good', async () => {
    const r = await silentlyIncomplete();
    const missing = r.strategies[0].rows.missing.toLocaleString('en-US');
    const expected = r.strategies[0].rows.expected.toLocaleString('en-US');
    expect(renderTerminal(r, { color: false })).toContain(`chunked>v0.9.6  SILENT DATA LOSS: exit 0 and stamped 8452d01d26d7 after 2 attempts · ${missing} of ${expected} rows missing for good (the next start skips the migration)`);
    const md = renderMarkdown(r);
    expect(md).toContain('### chunked>v0.9.6: ❌ silent data loss');
    expect(md).toContain(`**Silent data loss.** The last start (\`v0.9.6\`) exited 0 without an error and the revision is stamped (\`8452d01d26d7\`), so Open WebUI will not run this migration again: ${missing} of ${expected} expected rows are not in \`chat_message\` and never will be; 7 of its 7 indexes are missing and its foreign key to chat is missing.`);
    // What each start ran, and what it cost.
    expect(md).toContain('| # | ran | started | duration | WAL | ended |');
    expect(md).toMatch(/\| 2 \| `v0\.9\.6` \| [^|]+ \| [^|]+ \| 97\.7 kB \| completed \|/);
    expect(renderJunit(r)).toContain('<failure');
  });

  it('the chats a proposal skipped, named, with what we recommend upstream adopts', async () => {
    const r = structuredClone(await fixture('repro'));
    r.strategies[1].skippedChats = [{ chatId: 'c-77', reason: "AttributeError: 'list' object has no attribute 'get'" }];
    expect(renderTerminal(r, { color: false })).toContain('41,023 rows verified · 1 chat skipped (named in the report)');
    const md = renderMarkdown(r);
    expect(md).toContain("- chat `c-77`: AttributeError: 'list' object has no attribute 'get'");
    expect(md).toContain('This strategy skips such a chat, logs it and reports it here, and migrates the rest: that is the behaviour we recommend upstream adopts.');
  });

  it('the terminal summary names the faults in force, and nothing when there are none', async () => {
    const r = await fixture('repro');
    expect(renderTerminal(r, { color: false }).split('\n')[0]).toBe(`faults in force: ${r.faults!.description}`);
    const none = structuredClone(r);
    none.faults = { description: 'none', deadlineMs: null, restarts: 0, calibration: null };
    expect(renderTerminal(none, { color: false })).not.toContain('faults in force');
  });

  it('whose memory a client figure is, in the strategy section and in the gate’s check', async () => {
    const r = structuredClone(await fixture('repro'));
    r.strategies[1].clientPeakRssOf = 'port';
    expect(renderMarkdown(r)).toMatch(/\| client peak RSS \| [^|]+ \(the TypeScript port’s process, not what upstream’s Python needs\) \|/);
    const memory = gateChecks(r.strategies[1], undefined, { walAmplification: 2, maxWriteStallMs: 1000, clientPeakRssBytes: 2 * 1024 ** 3, resumable: false }).find((c) => c.name === 'client memory')!;
    expect(memory.measured).toBe(`peak RSS ${formatBytes(r.strategies[1].clientPeakRssBytes)} (the TypeScript port’s process, not what upstream’s Python needs)`);
    r.strategies[1].clientPeakRssOf = 'upstream';
    expect(gateChecks(r.strategies[1], undefined, { walAmplification: 2, maxWriteStallMs: 1000, clientPeakRssBytes: 2 * 1024 ** 3, resumable: false }).find((c) => c.name === 'client memory')!.measured).toMatch(/\(upstream’s Python process tree\)$/);
  });
});

describe('resampleTimeline', () => {
  const sample = (tMs: number, walBytes: number): Sample => ({
    tMs,
    attempt: 1,
    walBytes,
    rows: 0,
    walDirBytes: null,
    checkpoints: 0,
    txAgeMs: null,
    probeMs: null,
  });

  it('keeps at most 40 points on an exact whole-second grid, however long the run', () => {
    const long = Array.from({ length: 3600 }, (_, i) => sample(i * 10_000, i));
    const grid = resampleTimeline([long], (s) => s.walBytes, 40)!;
    expect(grid.gridS.length).toBeLessThanOrEqual(40);
    expect(Number.isInteger(grid.stepS)).toBe(true);
    expect(grid.gridS.at(-1)).toBeGreaterThanOrEqual(35_990);
  });

  it('interpolates between samples and holds the last value after a strategy ended', () => {
    const grid = resampleTimeline(
      [
        [sample(0, 0), sample(10_000, 100)],
        [sample(0, 0), sample(2_000, 40)],
      ],
      (s) => s.walBytes,
    )!;
    expect(grid.stepS).toBe(1);
    expect(grid.values[0][5]).toBe(50);
    expect(grid.values[1][1]).toBe(20);
    expect(grid.values[1][10]).toBe(40);
  });

  it('returns null when nothing was sampled', () => {
    expect(resampleTimeline([[], []], (s) => s.walBytes)).toBeNull();
  });
});

describe('writing reports', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('writes result.json, report.md, chart.svg and, for a gate, junit.xml; report re-renders them identically', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'report-write-')), 'results', 'run-1');
    dirs.push(dir);
    const r = await fixture('gate');
    const { files } = await writeReports(r, dir);
    expect(files).toEqual(['result.json', 'report.md', 'chart.svg', 'junit.xml'].map((f) => join(dir, f)));
    expect(JSON.parse(await readFile(join(dir, 'result.json'), 'utf8'))).toEqual(r);
    expect(await readFile(join(dir, 'result.json'), 'utf8')).toBe(`${JSON.stringify(r, null, 2)}\n`);
    const before = await Promise.all(files.map((f) => readFile(f, 'utf8')));
    const again = await reportCommand(join(dir, 'result.json'));
    expect(again.files).toEqual(files.slice(1));
    expect(await Promise.all(files.map((f) => readFile(f, 'utf8')))).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(['chart.svg', 'junit.xml', 'report.md', 'result.json']);
  });

  it('writes no junit.xml for a repro without checks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'report-write-'));
    dirs.push(dir);
    const { files } = await writeReports(await fixture('repro'), dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['result.json', 'report.md', 'chart.svg']);
  });
});
