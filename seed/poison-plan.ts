/**
 * Where a dataset's poison chats go. A poison chat stops every faithful
 * migration (upstream raises at it and nothing catches it), so where it sits
 * decides how much work a run does before it fails: the fix pages through
 * chats in id order, so positions are fractions of the migrated chats in id
 * order. The first sits at `poisonAt`; the others follow it, evenly spread
 * over the rest; kinds rotate through POISON_KINDS. Decided from the plan
 * alone (a chat's id is one of its first draws), before anything is generated.
 */
import { chatIdentity, POISON_KINDS, type DatasetParams, type PoisonKind } from './chat-generator.ts';

export const DEFAULT_POISON_AT = 0.6;

/** The poison chats of a dataset holding chats `indices`, by chat index. */
export function planPoison(spec: DatasetParams & { poisonChats?: number; poisonAt?: number }, indices: ArrayLike<number>): Map<number, PoisonKind> {
  const count = spec.poisonChats ?? 0;
  const at = spec.poisonAt ?? DEFAULT_POISON_AT;
  if (!Number.isInteger(count) || count < 0) throw new Error(`poisonChats must be a whole number of chats, 0 or more, not ${count}`);
  if (!(at >= 0 && at <= 1)) throw new Error(`poisonAt must be a fraction from 0 to 1, not ${at}`);
  const poison = new Map<number, PoisonKind>();
  if (!count) return poison;
  const migrated: { index: number; id: string }[] = [];
  for (let k = 0; k < indices.length; k++) {
    const c = chatIdentity(spec, indices[k]);
    if (c.migrated) migrated.push({ index: indices[k], id: c.id });
  }
  // Ids are lowercase UUIDs: code-unit order is the server's order under any collation.
  migrated.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const n = migrated.length;
  const first = Math.max(0, Math.min(Math.floor(at * n), n - 1));
  if (count > n - first)
    throw new Error(`poisonChats ${count} does not fit: the dataset has ${n} migrated chats and poisonAt ${at} leaves ${n - first} from the first poison chat on; plant fewer or lower poisonAt`);
  for (let k = 0; k < count; k++) poison.set(migrated[first + Math.floor((k * (n - first)) / count)].index, POISON_KINDS[k % POISON_KINDS.length]);
  return poison;
}
