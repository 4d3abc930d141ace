/**
 * Worker thread body: generates the chats of a load unit, their COPY lines
 * and their manifest lines, one batch per request, so that generation runs
 * on its own core while the main thread only moves bytes into COPY streams.
 */
import { parentPort } from 'node:worker_threads';
import { isMigratedChat } from '../harness/openwebui/chat-to-rows.ts';
import { generateChat, type DatasetParams } from './chat-generator.ts';
import { copyLine } from './copy-text.ts';
import { emptyUnitManifest, expectChatRow, type UnitManifest } from './manifest.ts';

export type WorkerRequest = { type: 'start'; spec: DatasetParams; indices: number[] } | { type: 'next' };

export type WorkerReply =
  | { type: 'batch'; data: Uint8Array; bytes: number }
  | { type: 'end'; manifest: Omit<UnitManifest, 'checksum'> & { checksum: string }; rowLines: string; failureLines: string }
  | { type: 'error'; message: string };

/** Chats are handed over in batches of about this many bytes. */
const BATCH_BYTES = 4 * 1024 * 1024;

let spec: DatasetParams;
let queue: number[] = [];
let m: UnitManifest;
let rowLines: string[] = [];
let failureLines: string[] = [];

/** UTF-8 of the lines in a fresh buffer of its own (a pooled Buffer's memory cannot be transferred). */
function encodeLines(lines: string[]): Uint8Array {
  let total = 0;
  const sizes = lines.map((l) => {
    const n = Buffer.byteLength(l, 'utf8');
    total += n;
    return n;
  });
  const out = Buffer.from(new ArrayBuffer(total));
  let at = 0;
  lines.forEach((l, i) => {
    out.write(l, at, sizes[i], 'utf8');
    at += sizes[i];
  });
  return out;
}

function nextBatch(): WorkerReply {
  const lines: string[] = [];
  let size = 0;
  let docBytes = 0;
  while (queue.length && size < BATCH_BYTES) {
    const g = generateChat(spec, queue.shift()!);
    m.chats++;
    if (g.edgeCase) m.edgeCases[g.edgeCase] = (m.edgeCases[g.edgeCase] ?? 0) + 1;
    for (const row of g.rows) {
      m.chatRows++;
      if (isMigratedChat(row.userId)) {
        m.migratedChats++;
        m.messages += g.messages;
      }
      const expect = expectChatRow(m, row);
      if (expect.rowLines) rowLines.push(expect.rowLines);
      if (expect.failureLines) failureLines.push(expect.failureLines);
      const len = row.chatText?.length ?? 0;
      m.bytes += len;
      docBytes += len;
      const line = copyLine([row.id, row.userId, row.title, row.chatText, row.createdAt, row.updatedAt, row.shareId, row.archived, row.pinned, row.meta, row.folderId]);
      size += line.length;
      lines.push(line);
    }
  }
  if (!lines.length) {
    return { type: 'end', manifest: { ...m, checksum: m.checksum.toString() }, rowLines: rowLines.join(''), failureLines: failureLines.join('') };
  }
  return { type: 'batch', data: encodeLines(lines), bytes: docBytes };
}

parentPort?.on('message', (req: WorkerRequest) => {
  try {
    if (req.type === 'start') {
      spec = req.spec;
      queue = [...req.indices];
      m = emptyUnitManifest();
      rowLines = [];
      failureLines = [];
      return;
    }
    const reply = nextBatch();
    if (reply.type === 'batch') parentPort!.postMessage(reply, [reply.data.buffer as ArrayBuffer]);
    else parentPort!.postMessage(reply);
  } catch (err) {
    parentPort!.postMessage({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies WorkerReply);
  }
});
