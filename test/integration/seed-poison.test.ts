/**
 * Planted poison chats, against a real PostgreSQL 15: documents at which
 * upstream raises and nothing catches it, so every faithful migration fails
 * there. Off by default; with `poisonChats` the first sits at `poisonAt` of
 * the migrated chats in id order and the others after it, their kinds in
 * rotation; the manifest records each as stopping the migration and expects
 * no row of theirs; the same spec gives the same bytes by any loading path,
 * and every other chat is the chat it is without poison.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveManifest } from '../../harness/byod/derive-manifest.ts';
import type { StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { createOwnedDatabase } from '../../harness/postgres/databases.ts';
import { datasetKey, planDataset, type DatasetSpec } from '../../seed/dataset-plan.ts';
import { NOW_REFERENCE } from '../../seed/manifest.ts';
import { seedDatabase, type SeedSummary } from '../../seed/seeder.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { cloneDatabase, seedTemplate, startTestServer } from '../support/postgres.ts';

/** 200 small chats, a few edge cases, 7 poison chats from the middle on. */
const DATASET_P: DatasetSpec = { seed: 41, chats: 200, edgeCaseRate: 0.05, sharedRate: 0.05, sizeScale: 0.05, poisonChats: 7, poisonAt: 0.5 };
const { poisonChats: _p, poisonAt: _a, ...WITHOUT_POISON } = DATASET_P;

/** Python's exception for each kind, as upstream raises it (written by hand). */
const REASON: Record<string, string> = {
  list: "AttributeError: 'list' object has no attribute 'get'",
  number: "AttributeError: 'int' object has no attribute 'get'",
  true: "AttributeError: 'bool' object has no attribute 'get'",
  'string-null': "AttributeError: 'NoneType' object has no attribute 'get'",
  'string-string': "AttributeError: 'str' object has no attribute 'get'",
};

/** Every chat row, in id order, and the manifest's tables. */
const CHATS_SQL = `SELECT id, user_id, chat::text AS text, json_typeof(chat) AS type FROM chat ORDER BY id COLLATE "C"`;
const POISON_SQL = `SELECT chat_id, rules, kind, reason FROM harness.poison_chats ORDER BY chat_id COLLATE "C", rules`;
const DIGEST_SQL = `SELECT
  (SELECT md5(string_agg(c::text, E'\\n' ORDER BY c.id)) FROM chat c) AS chats,
  (SELECT md5(coalesce(string_agg(e::text, E'\\n' ORDER BY e.id), '')) FROM harness.expected_rows e) AS expected,
  (SELECT md5(coalesce(string_agg(f::text, E'\\n' ORDER BY f.id), '')) FROM harness.expected_failures f) AS failures,
  (SELECT md5(coalesce(string_agg(p::text, E'\\n' ORDER BY p.chat_id, p.rules), '')) FROM harness.poison_chats p) AS poison`;

interface StoredChat {
  id: string;
  user_id: string | null;
  text: string | null;
  type: string | null;
}

let server: StartedEmbeddedPostgres;
const seeded = new Map<string, SeedSummary>();

beforeAll(async () => {
  server = await startTestServer();
  // Default path: two streams, a worker thread (the poison plan crosses into it).
  seeded.set('poison_a', await seedTemplate(server, 'poison_a', DATASET_P));
  // One stream on the main thread, no COPY FREEZE head.
  await withClient(server, 'postgres', 'test', (admin) => createOwnedDatabase(admin, 'poison_b'));
  seeded.set('poison_b', await seedDatabase({ server, database: 'poison_b', dataset: DATASET_P, streams: 1, generators: 0, headShare: 0 }));
  seeded.set('poison_none', await seedTemplate(server, 'poison_none', WITHOUT_POISON));
});
afterAll(async () => {
  await server?.stop();
});

const chatsOf = (db: string) => withClient(server, db, 'test', async (c) => (await c.query<StoredChat>(CHATS_SQL)).rows);
const poisonOf = (db: string) => withClient(server, db, 'test', async (c) => (await c.query<{ chat_id: string; rules: string; kind: string | null; reason: string }>(POISON_SQL)).rows);

describe('poison chats', () => {
  it('are off by default', () => {
    expect(planDataset(WITHOUT_POISON).poison.size).toBe(0);
    expect(seeded.get('poison_none')!.poisonChats).toBe(0);
  });

  it('the first sits at poisonAt of the migrated chats in id order, the others after it, kinds in rotation', async () => {
    const migrated = (await chatsOf('poison_a')).filter((c) => c.user_id !== null && !c.user_id.startsWith('shared-'));
    const poison = (await poisonOf('poison_a')).filter((p) => p.rules === 'v0.8.12');
    expect(poison).toHaveLength(7);
    const positions = poison.map((p) => migrated.findIndex((c) => c.id === p.chat_id));
    expect(positions[0]).toBe(Math.floor(0.5 * migrated.length));
    expect(positions.every((p, i) => i === 0 || p > positions[i - 1])).toBe(true);
    expect(poison.map((p) => p.kind)).toEqual(['list', 'number', 'true', 'string-null', 'string-string', 'list', 'number']);
  });

  it('each shows in the stored row as its kind: truthy, and not an object once upstream has parsed it', async () => {
    const byId = new Map((await chatsOf('poison_a')).map((c) => [c.id, c]));
    for (const p of (await poisonOf('poison_a')).filter((x) => x.rules === 'v0.8.12')) {
      const c = byId.get(p.chat_id)!;
      const value = JSON.parse(c.text!) as unknown;
      if (p.kind === 'list') expect(Array.isArray(value) && value.length > 0, c.id).toBe(true);
      else if (p.kind === 'number') expect(typeof value === 'number' && value !== 0, c.id).toBe(true);
      else if (p.kind === 'true') expect(c.text).toBe('true');
      else if (p.kind === 'string-null') expect(c.text).toBe('"null"');
      else {
        expect(c.type).toBe('string');
        expect(typeof JSON.parse(value as string)).toBe('string');
      }
    }
  });

  it('the manifest records each as stopping every release, with upstream’s exception; their messages are neither rows nor failures', async () => {
    const s = seeded.get('poison_a')!;
    const poison = await poisonOf('poison_a');
    const fix = poison.filter((p) => p.rules === 'v0.8.12');
    expect(fix.map((p) => p.reason)).toEqual(fix.map((p) => REASON[p.kind!]));
    // v0.8.0 stops at the same chats, and at edge cases its missing guards trip on.
    const v080 = new Map(poison.filter((p) => p.rules === 'v0.8.0').map((p) => [p.chat_id, p.reason]));
    for (const p of fix) expect(v080.get(p.chat_id)).toBe(p.reason);
    expect(s.poisonChats).toBe(7);
    expect(s.v080PoisonChats).toBe(v080.size);
    await withClient(server, 'poison_a', 'test', async (c) => {
      const ids = fix.map((p) => p.chat_id);
      expect((await c.query('SELECT count(*)::int AS n FROM harness.expected_rows WHERE chat_id = ANY($1)', [ids])).rows[0].n).toBe(0);
      expect((await c.query('SELECT count(*)::int AS n FROM harness.expected_failures WHERE chat_id = ANY($1)', [ids])).rows[0].n).toBe(0);
      const totals = (await c.query('SELECT sum(poison_chats)::int AS p, sum(v080_poison_chats)::int AS v FROM harness.load_units')).rows[0];
      expect(totals).toEqual({ p: 7, v: v080.size });
    });
  });

  it('the same spec gives the same bytes and manifest, whatever the loading path', async () => {
    const a = await withClient(server, 'poison_a', 'test', async (c) => (await c.query(DIGEST_SQL)).rows[0]);
    const b = await withClient(server, 'poison_b', 'test', async (c) => (await c.query(DIGEST_SQL)).rows[0]);
    expect(b).toEqual(a);
    expect(seeded.get('poison_b')!.chatChecksum).toBe(seeded.get('poison_a')!.chatChecksum);
  });

  it('every other chat is byte for byte the chat it is without poison; the dataset key differs', async () => {
    const poisoned = new Set((await poisonOf('poison_a')).filter((p) => p.rules === 'v0.8.12').map((p) => p.chat_id));
    const a = (await chatsOf('poison_a')).filter((c) => !poisoned.has(c.id) && !(c.user_id?.startsWith('shared-') && poisoned.has(c.user_id.slice(7))));
    const none = (await chatsOf('poison_none')).filter((c) => !poisoned.has(c.id) && !(c.user_id?.startsWith('shared-') && poisoned.has(c.user_id.slice(7))));
    expect(a.length).toBeGreaterThan(190);
    expect(a).toEqual(none);
    expect(datasetKey(DATASET_P)).not.toBe(datasetKey(WITHOUT_POISON));
    expect(datasetKey({ ...DATASET_P, poisonAt: 0.7 })).not.toBe(datasetKey(DATASET_P));
  });

  it('a manifest derived from a copy finds the same poison chats and reports them by id', async () => {
    await cloneDatabase(server, 'poison_a', 'poison_derived');
    const { summary, report } = await deriveManifest(server, 'poison_derived', 'seeded-copy', NOW_REFERENCE);
    const seededPoison = await poisonOf('poison_a');
    const derivedPoison = await poisonOf('poison_derived');
    expect(derivedPoison.map(({ kind: _k, ...p }) => p)).toEqual(seededPoison.map(({ kind: _k, ...p }) => p));
    expect(derivedPoison.every((p) => p.kind === null)).toBe(true);
    const fix = seededPoison.filter((p) => p.rules === 'v0.8.12');
    expect(report.poisonChats).toBe(7);
    expect(report.firstPoisonChats).toEqual(fix.map((p) => ({ chatId: p.chat_id, reason: p.reason })));
    expect(report.v080PoisonChats).toBe(seeded.get('poison_a')!.v080PoisonChats);
    expect({ poisonChats: summary.poisonChats, expectedRows: summary.expectedRows, checksum: summary.checksum }).toEqual({
      poisonChats: 7,
      expectedRows: seeded.get('poison_a')!.expectedRows,
      checksum: seeded.get('poison_a')!.checksum,
    });
  });

  it('refuses more poison chats than fit after poisonAt, naming both', () => {
    expect(() => planDataset({ ...DATASET_P, poisonChats: 150 })).toThrow(/^poisonChats 150 does not fit: the dataset has \d+ migrated chats and poisonAt 0.5 leaves \d+ from the first poison chat on/);
    expect(() => planDataset({ ...DATASET_P, poisonAt: 1.5 })).toThrow('poisonAt must be a fraction from 0 to 1, not 1.5');
  });
});
