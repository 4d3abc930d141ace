/**
 * `junit.xml` for `gate` and `validate`: one testsuite per run, one testcase
 * per check (classname = strategy, name = check), a failure carrying the
 * measured value and the limit. Without checks, one testcase per strategy
 * that passes when it succeeded and verified. A run that did not complete
 * adds an errored testcase, so CI never reads a partial run as green.
 */
import type { RunResult } from '../result/run-result.ts';
import { displayStrategies } from './display-strategies.ts';

/** The `name` of the testsuites element; the testsuite adds the run's kind. */
const JUNIT_SUITE = 'owui-migration-harness';

/** Text and attribute values as XML 1.0: escaped, without the control characters XML forbids. */
export function xmlEscape(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

interface TestCase {
  classname: string;
  name: string;
  failure: { message: string; body: string } | null;
  error: { message: string; body: string } | null;
}

function testCases(result: RunResult): TestCase[] {
  const cases: TestCase[] =
    result.checks && result.checks.length > 0
      ? result.checks.map((c) => ({
          classname: c.strategy,
          name: c.name,
          failure: c.passed ? null : { message: `measured ${c.measured}, limit ${c.limit}`, body: c.detail ?? `measured ${c.measured}, limit ${c.limit}` },
          error: null,
        }))
      : displayStrategies(result).map((s) => {
          const measured = `${s.outcome} and ${s.verified ? 'verified' : 'not verified'}`;
          const body = [s.error, ...s.attempts.map((a) => `attempt ${a.n}: ${a.ended}${a.error ? ` (${a.error})` : ''}`)].filter(Boolean).join('\n');
          return {
            classname: s.name,
            name: 'succeeds and verifies',
            failure:
              s.outcome === 'succeeded' && s.verified ? null : { message: `measured ${measured}, limit succeeded and verified`, body: body || measured },
            error: null,
          };
        });
  if (result.status !== 'complete') {
    const where = result.stoppedAt ? ` at ${result.stoppedAt}` : '';
    cases.push({
      classname: 'run',
      name: 'run completes',
      failure: null,
      error: { message: `run ${result.status}${where}`, body: result.error ?? `run ${result.status}${where}` },
    });
  }
  return cases;
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** The JUnit XML document. */
export function renderJunit(result: RunResult): string {
  const cases = testCases(result);
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const time = result.finishedAt ? seconds(Date.parse(result.finishedAt) - Date.parse(result.startedAt)) : '0.000';
  const counts = `tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="0" time="${time}"`;
  const attr = (name: string, value: string) => `${name}="${xmlEscape(value)}"`;
  const properties: [string, string][] = [
    ['runId', result.runId],
    ['command', result.command],
    ['scenario', result.scenario.name],
    ['postgres', `${result.postgres.version} (${result.postgres.provider})`],
    ['status', result.status],
  ];
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attr('name', JUNIT_SUITE)} ${counts}>`,
    `  <testsuite ${attr('name', `${JUNIT_SUITE} ${result.kind}`)} ${counts} ${attr('timestamp', result.startedAt)}>`,
    '    <properties>',
    ...properties.map(([name, value]) => `      <property ${attr('name', name)} ${attr('value', value)}/>`),
    '    </properties>',
  ];
  for (const c of cases) {
    const open = `    <testcase ${attr('classname', c.classname)} ${attr('name', c.name)}`;
    if (!c.failure && !c.error) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    if (c.failure) lines.push(`      <failure ${attr('message', c.failure.message)} type="check">${xmlEscape(c.failure.body)}</failure>`);
    if (c.error) lines.push(`      <error ${attr('message', c.error.message)} type="run">${xmlEscape(c.error.body)}</error>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>');
  return `${lines.join('\n')}\n`;
}
