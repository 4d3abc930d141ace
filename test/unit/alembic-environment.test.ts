/**
 * The Alembic environment model the ports follow, and the readers of a
 * checkout and of Alembic's log. Expectations written by hand from what
 * real Alembic did with a migration that commits by itself (the fixture
 * checkouts prove the same four cases against real Alembic in
 * test/integration/upstream.test.ts).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { followingStandIn, nextStartSentence, readStamp, stampModel } from '../../harness/openwebui/alembic-environment.ts';
import { revisionStarts, parseLogLine } from '../../harness/upstream/alembic-log.ts';
import { detectEnvShape, findRevision, parsePins, parseRevisionFile, readCheckout } from '../../harness/upstream/openwebui-checkout.ts';

const FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'checkouts');

describe('stampModel: what happens to the stamp of a migration', () => {
  it.each([
    // shape, target, commitsInside, commitVia, stampKept, followingKept
    ['single', 'head', false, undefined, true, true],
    ['single', 'revision', false, undefined, true, false],
    ['per-migration', 'head', false, undefined, true, true],
    ['per-migration', 'revision', false, undefined, true, false],
    ['single', 'head', true, 'connection', false, false],
    ['single', 'revision', true, 'connection', false, false],
    ['per-migration', 'head', true, 'connection', true, true],
    ['per-migration', 'revision', true, 'connection', false, false],
    ['single', 'head', true, 'autocommit-block', true, true],
    ['single', 'revision', true, 'autocommit-block', true, false],
    ['per-migration', 'head', true, 'autocommit-block', true, true],
    ['per-migration', 'revision', true, 'autocommit-block', true, false],
  ] as const)('%s, target %s, commits inside: %s via %s → stamp kept %s, following kept %s', (shape, target, commitsInside, commitVia, stampKept, followingKept) => {
    expect(stampModel({ shape, target }, { commitsInside, commitVia })).toEqual({ stampKept, followingKept });
  });
});

describe('reading a stamp', () => {
  const o = { before: '374d2f66af06', after: '8452d01d26d7' };
  it('the revision, or the stand-in after it, is stamped; the one before is not', () => {
    expect(readStamp('8452d01d26d7', { ...o, followingTablePresent: null }).verdict).toBe('stamped');
    expect(readStamp('harness_after_8452d01d26d7', { ...o, followingTablePresent: true }).verdict).toBe('stamped');
    expect(readStamp('374d2f66af06', { ...o, followingTablePresent: false }).verdict).toBe('not-stamped');
    expect(readStamp(null, { ...o, followingTablePresent: null }).verdict).toBe('other');
    expect(readStamp('c440947495f3', { ...o, followingTablePresent: null }).verdict).toBe('other');
  });
  it('says what the next start does', () => {
    const lost = readStamp('374d2f66af06', { ...o, followingTablePresent: false });
    expect(nextStartSentence(lost, { shape: 'single', target: 'head' }, o.after)).toBe(
      'not stamped: the next start runs it again; revisions after it in the same run were rolled back',
    );
    expect(nextStartSentence(lost, { shape: 'per-migration', target: 'revision' }, o.after)).toBe('not stamped: the next start runs it again');
    expect(nextStartSentence(readStamp('8452d01d26d7', { ...o, followingTablePresent: null }), { shape: 'single', target: 'revision' }, o.after)).toBe(
      'stamped 8452d01d26d7: the next start does not run it again',
    );
  });
  it('the stand-in fits alembic_version (varchar(32))', () => {
    expect(followingStandIn('8452d01d26d7')).toEqual({ id: 'harness_after_8452d01d26d7', table: 'harness_after_revision' });
    expect(followingStandIn('a'.repeat(40)).id.length).toBe(32);
  });
});

describe('reading a checkout', () => {
  it('finds the chain, the env shape and the pins from the repository root or backend/', async () => {
    for (const dir of [path.join(FIXTURES, 'commits-per-page'), path.join(FIXTURES, 'commits-per-page', 'backend')]) {
      const c = await readCheckout(dir);
      expect(c.revisions.map((r) => r.id)).toEqual(['0000fixture0', '374d2f66af06', '8452d01d26d7', '9999fixture9']);
      expect(c.envShape.shape).toBe('per-migration');
      expect(c.pins).toEqual({ alembic: '1.18.4', sqlalchemy: '2.0.50', psycopg2: '2.9.12' });
      expect(findRevision(c, '8452d01d26d7').downRevisions).toEqual(['374d2f66af06']);
      expect(findRevision(c, '8452').id).toBe('8452d01d26d7');
    }
    expect((await readCheckout(path.join(FIXTURES, 'one-transaction'))).envShape.shape).toBe('single');
  });
  it('refuses what is not a checkout, and a revision it does not hold, naming what to give', async () => {
    await expect(readCheckout(path.join(FIXTURES, 'nowhere'))).rejects.toThrow(/--openwebui .*nowhere: not a directory; give an Open WebUI checkout/);
    await expect(readCheckout(FIXTURES)).rejects.toThrow(/no Alembic revisions found \(looked for backend\/open_webui\/migrations\/versions\)/);
    const c = await readCheckout(path.join(FIXTURES, 'one-transaction'));
    expect(() => findRevision(c, 'ffffffffffff')).toThrow(/--revision ffffffffffff: no such revision in .* \(4 revisions, from 0000fixture0 to 9999fixture9\)/);
  });
  it('parses revision files as Open WebUI writes them', () => {
    const typed = "\"\"\"Add chat_message table\n\nRevision ID: x\n\"\"\"\nrevision: str = '8452d01d26d7'\ndown_revision: Union[str, None] = '374d2f66af06'\n";
    expect(parseRevisionFile(typed, '/f.py')).toEqual({ id: '8452d01d26d7', downRevisions: ['374d2f66af06'], file: '/f.py', message: 'Add chat_message table' });
    const merge = 'revision = "m1"\ndown_revision = ("a1", "b2")\n';
    expect(parseRevisionFile(merge, '/m.py')?.downRevisions).toEqual(['a1', 'b2']);
    expect(parseRevisionFile('revision = "first"\ndown_revision = None\n', '/x.py')?.downRevisions).toEqual([]);
    expect(parseRevisionFile('import os\n', '/helper.py')).toBeNull();
  });
  it('detects the env shape from code, not from comments', () => {
    expect(detectEnvShape('context.configure(connection=c, transaction_per_migration=True)').shape).toBe('per-migration');
    expect(detectEnvShape('# transaction_per_migration=True\ncontext.configure(connection=c)').shape).toBe('single');
    expect(detectEnvShape(null).shape).toBe('single');
  });
  it('reads pins with extras and either psycopg2 spelling', () => {
    expect(parsePins('sqlalchemy[asyncio]==2.0.50\nalembic==1.18.4 # x\npsycopg2-binary==2.9.12\nfastapi==0.1\n')).toEqual({ sqlalchemy: '2.0.50', alembic: '1.18.4', psycopg2: '2.9.12' });
    expect(parsePins('psycopg2==2.9.5')).toEqual({ psycopg2: '2.9.5' });
    expect(parsePins('alembic>=1.0')).toEqual({});
  });
});

describe("Alembic's log", () => {
  it('reads the revisions started, with their times', () => {
    const log = [
      '1796029614.299 INFO [env_py] harness alembic environment: single',
      '1796029614.430 INFO [alembic.runtime.migration] Running upgrade 374d2f66af06 -> 8452d01d26d7, Add chat_message table',
      'Traceback (most recent call last):',
      '1796029643.301 INFO [8452d01d26d7_add_chat_message_table_py] Running upgrade a -> b, not alembic',
      '1796029689.372 INFO [alembic.runtime.migration] Running upgrade 8452d01d26d7 -> harness_after_8452d01d26d7, Harness stand-in',
      '1796029690.000 INFO [alembic.runtime.migration] Running upgrade  -> 7e5b5dc7342b, init',
    ].join('\n');
    expect(revisionStarts(log)).toEqual([
      { atMs: 1796029614430, from: '374d2f66af06', to: '8452d01d26d7', message: 'Add chat_message table' },
      { atMs: 1796029689372, from: '8452d01d26d7', to: 'harness_after_8452d01d26d7', message: 'Harness stand-in' },
      { atMs: 1796029690000, from: '', to: '7e5b5dc7342b', message: 'init' },
    ]);
    expect(parseLogLine('Traceback (most recent call last):')).toBeNull();
  });
});
