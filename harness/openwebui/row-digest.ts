/**
 * Order-independent fingerprints of `chat_message` rows, computed the same
 * way in TypeScript (from the rows the rules predict) and in SQL (from the
 * rows a migration wrote), so verification never re-reads the chats.
 *
 * A row's *body* digest covers every column but `usage` (v0.8.0 never wrote
 * it) and the two timestamps (rows whose timestamp fell back to the
 * migration's `now` are checked against the run's time window instead).
 */
import { createHash } from 'node:crypto';
import type { MessageRow } from './chat-to-rows.ts';

const BODY_COLUMNS = [
  'id',
  'chat_id',
  'user_id',
  'role',
  'parent_id',
  'content',
  'output',
  'model_id',
  'files',
  'sources',
  'embeds',
  'done',
  'status_history',
  'error',
] as const;

// Hashed part by part: concatenating first would copy every content string once more.
function md5Fields(values: (string | null)[]): string {
  const h = createHash('md5');
  for (const v of values) {
    if (v === null) h.update('N');
    else {
      h.update(`V${Buffer.byteLength(v, 'utf8')}:`);
      h.update(v, 'utf8');
    }
  }
  return h.digest('hex');
}

/** md5 (hex) of every column except `usage`, `created_at`, `updated_at`. */
export function bodyDigest(row: MessageRow): string {
  return md5Fields(
    BODY_COLUMNS.map((c) => {
      const v = row[c];
      return v === null ? null : typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
    }),
  );
}

/** md5 (hex) of the `usage` column's text. */
export function usageDigest(row: Pick<MessageRow, 'usage'>): string {
  return md5Fields([row.usage]);
}

const sqlField = (expr: string) => `coalesce('V' || octet_length(${expr})::text || ':' || ${expr}, 'N')`;

/** SQL for {@link bodyDigest} of the `chat_message` row aliased `alias`, as uuid. */
export function bodyDigestSql(alias: string): string {
  const parts = BODY_COLUMNS.map((c) => sqlField(c === 'done' ? `${alias}.done::text` : `${alias}.${c}::text`));
  return `md5(${parts.join(' || ')})::uuid`;
}

/** SQL for {@link usageDigest}, as uuid. */
export function usageDigestSql(alias: string): string {
  return `md5(${sqlField(`${alias}.usage::text`)})::uuid`;
}

/** Contribution of one digest to an order-independent checksum (first 60 bits). */
export function checksumTerm(hexDigest: string): bigint {
  return BigInt('0x' + hexDigest.replace(/-/g, '').slice(0, 15));
}

/** SQL aggregate matching a sum of {@link checksumTerm}, as text (decimal, mod 2^64). */
export function checksumSql(digestUuidExpr: string): string {
  return `(coalesce(sum(('x' || substr(replace(${digestUuidExpr}::text, '-', ''), 1, 15))::bit(60)::bigint::numeric), 0) % 18446744073709551616)::text`;
}

export const CHECKSUM_MODULUS = 18446744073709551616n;

/**
 * SQL for the digest of one `chat` row (aliased `alias`): its id and its
 * document, the parts nothing but a migration gone wrong would change (the
 * write probe updates titles and timestamps of existing chats), as uuid.
 */
function chatDigestSql(alias: string): string {
  return `md5(${sqlField(`${alias}.id::text`)} || ${sqlField(`${alias}.chat::text`)})::uuid`;
}

/** SQL aggregate: order-independent checksum of the `chat` rows aliased `alias` (add FROM and WHERE). */
export function chatChecksumSql(alias: string): string {
  return checksumSql(chatDigestSql(alias));
}
