import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedEmbeddedPostgres } from '../../harness/postgres/embedded-server.ts';
import { withClient } from '../../harness/postgres/with-client.ts';
import { seedTemplate, startTestServer } from '../support/postgres.ts';

let server: StartedEmbeddedPostgres;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('seeding a small dataset', () => {
  it('loads chats and a manifest', async () => {
    const s = await seedTemplate(server, 'tpl_small');
    expect(s.chats).toBeGreaterThan(120);
    expect(s.expectedRows).toBeGreaterThan(0);
    await withClient(server, 'tpl_small', 'test', async (c) => {
      const r = await c.query('SELECT count(*)::int AS n FROM chat');
      expect(r.rows[0].n).toBe(s.chats);
    });
  });
});
