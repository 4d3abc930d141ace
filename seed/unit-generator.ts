/**
 * One load unit, generated: its chats as COPY rows, and its manifest (the
 * rows the migration must write, by the shared chat-to-rows rules, and the
 * chat checksum), ready to load in one transaction. Pure: the same spec and
 * indices give the same bytes in any thread.
 */
import { isMigratedChat } from '../harness/openwebui/chat-to-rows.ts';
import { CHECKSUM_MODULUS } from '../harness/openwebui/row-digest.ts';
import { CHAT_COPY_COLUMNS } from '../harness/openwebui/schema.ts';
import { generateChat, type DatasetParams, type PoisonKind } from './chat-generator.ts';
import { chatDigestTerm } from './chat-digest.ts';
import { DocumentWriter } from './document-writer.ts';
import { BinaryCopyWriter } from './binary-copy-writer.ts';
import { emptyUnitManifest, expectChatRow, type UnitManifest } from './manifest.ts';

export interface GeneratedUnit {
  /** COPY data in binary format for `chat` (CHAT_COPY_COLUMNS), each chunk backed by an ArrayBuffer of its own. */
  chunks: Buffer[];
  /** COPY bytes in `chunks`. */
  copyBytes: number;
  manifest: UnitManifest;
  /** COPY text rows for `harness.expected_rows`, `harness.expected_failures` and `harness.poison_chats`. */
  rowLines: string;
  failureLines: string;
  poisonLines: string;
}

/** A unit built chat by chat (so a caller on the main thread can yield in between). */
export class UnitBuilder {
  private readonly m = emptyUnitManifest();
  private readonly out = new BinaryCopyWriter();
  private readonly docs = new DocumentWriter();
  private readonly rowLines: string[] = [];
  private readonly failureLines: string[] = [];
  private readonly poisonLines: string[] = [];

  constructor(private readonly spec: DatasetParams) {}

  add(index: number, poison: PoisonKind | null = null): void {
    const { m, out } = this;
    const g = generateChat(this.spec, index, poison);
    m.chats++;
    if (g.edgeCase) m.edgeCases[g.edgeCase] = (m.edgeCases[g.edgeCase] ?? 0) + 1;
    // A shared chat's snapshot holds the same document: written once.
    let text: Buffer | null | undefined;
    for (const row of g.rows) {
      m.chatRows++;
      if (isMigratedChat(row.userId)) {
        m.migratedChats++;
        m.messages += g.messages;
      }
      const expect = expectChatRow(m, row, undefined, g.poison ?? g.edgeCase);
      if (expect.rowLines) this.rowLines.push(expect.rowLines);
      if (expect.failureLines) this.failureLines.push(expect.failureLines);
      if (expect.poisonLines) this.poisonLines.push(expect.poisonLines);
      if (text === undefined) text = row.doc === null ? null : this.docs.write(row.doc, g.rawContent);
      m.bytes += text?.length ?? 0;
      out.row(CHAT_COPY_COLUMNS.length).text(row.id).text(row.userId).text(row.title);
      if (text === null) out.null();
      else out.bytes(text);
      out.int8(row.createdAt).int8(row.updatedAt).text(row.shareId).bool(row.archived).bool(row.pinned).text(row.meta).text(row.folderId);
      m.chatChecksum = (m.chatChecksum + chatDigestTerm(row.id, text)) % CHECKSUM_MODULUS;
    }
  }

  finish(): GeneratedUnit {
    const chunks = this.out.finish();
    return {
      chunks,
      copyBytes: this.out.byteCount,
      manifest: this.m,
      rowLines: this.rowLines.join(''),
      failureLines: this.failureLines.join(''),
      poisonLines: this.poisonLines.join(''),
    };
  }
}

/** Poison chats among a unit's chats, by chat index (see poison-plan.ts). */
export type UnitPoison = Readonly<Record<number, PoisonKind>>;

export function generateUnit(spec: DatasetParams, indices: readonly number[], poison: UnitPoison = {}): GeneratedUnit {
  const b = new UnitBuilder(spec);
  for (const i of indices) b.add(i, poison[i] ?? null);
  return b.finish();
}
