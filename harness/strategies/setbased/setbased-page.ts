/**
 * One page of `setbased` inside the page's transaction: the fast statement
 * in a savepoint; if the server rejects it (a `\u0000` it cannot de-escape),
 * the careful statement; if that fails too, chat by chat, each in its own
 * savepoint, a chat that still fails counted as one failure. Row failures
 * arrive as NOTICEs while a statement runs and count only if it succeeds.
 */
import { errorMessage } from '../../errors.ts';
import type { RowFailure } from '../../openwebui/chat-to-rows.ts';
import type { Client } from '../../postgres/sql.ts';
import type { FailureLog } from '../ported/failure-log.ts';
import { chatIdsBetween } from '../ported/keyset-pages.ts';
import { isRowLevelError } from '../ported/row-level-error.ts';
import type { SavepointNames } from '../ported/savepoint-names.ts';
import { ROW_FAILURE_NOTICE, setbasedPageSql } from './setbased-sql.ts';

const FAST = setbasedPageSql('fast');
const CAREFUL = setbasedPageSql('careful');
/** What `\u0000` reads as while hidden (the placeholder escape de-escaped). */
const NUL_STAND_IN = '\u{10FFFF}';

/** Collects a connection's row-failure NOTICEs for the statement running now. */
export class FailureNotices {
  private current: RowFailure[] | undefined;

  constructor(client: Client) {
    client.on('notice', (n: { message?: string; detail?: string }) => {
      if (n.message !== ROW_FAILURE_NOTICE || !this.current || !n.detail) return;
      const f = JSON.parse(n.detail) as RowFailure & { nulHidden: boolean };
      this.current.push({ id: f.nulHidden ? f.id.replaceAll(NUL_STAND_IN, '\u0000') : f.id, chatId: f.chatId, reason: f.reason });
    });
  }

  /** Run `text`; on success return its row count and the failures it reported. */
  async run(client: Client, text: string, values: unknown[]): Promise<{ rows: number; failures: RowFailure[] }> {
    const mine: RowFailure[] = [];
    this.current = mine;
    try {
      const r = await client.query(text, values);
      return { rows: r.rowCount ?? 0, failures: mine };
    } finally {
      this.current = undefined;
    }
  }
}

async function attempt(
  client: Client,
  notices: FailureNotices,
  savepoint: string,
  text: string,
  values: unknown[],
): Promise<{ rows: number; failures: RowFailure[] } | { error: unknown }> {
  await client.query(`SAVEPOINT ${savepoint}`);
  try {
    const out = await notices.run(client, text, values);
    await client.query(`RELEASE SAVEPOINT ${savepoint}`);
    return out;
  } catch (err) {
    if (!isRowLevelError(err)) throw err;
    await client.query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
    return { error: err };
  }
}

/** Insert the messages of the chats in `(after, upTo]`; returns the rows the server reports inserted. */
export async function insertSetbasedPage(
  client: Client,
  notices: FailureNotices,
  page: { after: string; upTo: string; now: number },
  savepoints: SavepointNames,
  failures: FailureLog,
  log: (line: string) => void,
): Promise<number> {
  const values = [page.after, page.upTo, page.now];
  for (const text of [FAST, CAREFUL]) {
    const out = await attempt(client, notices, savepoints.next(), text, values);
    if ('rows' in out) {
      for (const f of out.failures) failures.add(f);
      return out.rows;
    }
    log(`setbased: page (${page.after}, ${page.upTo}] ${text === FAST ? 'failed on the fast path, retrying carefully' : 'failed on the careful path, retrying chat by chat'}: ${errorMessage(out.error)}`);
  }
  let rows = 0;
  let after = page.after;
  for (const id of await chatIdsBetween(client, page.after, page.upTo)) {
    const out = await attempt(client, notices, savepoints.next(), CAREFUL, [after, id, page.now]);
    if ('rows' in out) {
      rows += out.rows;
      for (const f of out.failures) failures.add(f);
    } else failures.add({ id, chatId: id, reason: `setbased could not read this chat's messages in SQL (none inserted): ${errorMessage(out.error)}` });
    after = id;
  }
  return rows;
}
