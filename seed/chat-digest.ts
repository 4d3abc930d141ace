/**
 * The digest of one `chat` row as `chatDigestSql` computes it on the server
 * (harness/openwebui/row-digest.ts): md5 over `V<octets>:<id>` then
 * `V<octets>:<document text>` (or `N` for SQL NULL), summed with
 * `checksumTerm`. Computed while generating, it gives the seed's chat
 * checksum without the server reading every document back (a third of a
 * seed's time at 512 MB); the seeding tests check it against the SQL.
 */
import { createHash } from 'node:crypto';
import { checksumTerm } from '../harness/openwebui/row-digest.ts';

/** `text` is the document's bytes exactly as the server stores them (null for SQL NULL). */
export function chatDigestTerm(id: string, text: Buffer | null): bigint {
  const h = createHash('md5');
  h.update(`V${Buffer.byteLength(id, 'utf8')}:`);
  h.update(id, 'utf8');
  if (text === null) h.update('N');
  else {
    h.update(`V${text.length}:`);
    h.update(text);
  }
  return checksumTerm(h.digest('hex'));
}
