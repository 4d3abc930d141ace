/**
 * Chat sizes calibrated to the bug report's database: 68 GB over 161k chats
 * (about 450 KB a chat on average, heavy-tailed), with its size classes:
 * about 84k chats under 10 KB totalling 337 MB, about 50k of 10-100 KB
 * totalling 1.3 GB, and the rest (about 27k) above 100 KB holding nearly
 * everything. Each class is a truncated log-normal whose parameters were
 * tuned by sampling to those class means (4.1 KB, 26.9 KB, 2.6 MB).
 */
import type { Prng } from './prng.ts';

interface SizeClass {
  name: string;
  share: number;
  median: number;
  sigma: number;
  min: number;
  max: number;
}

const MAX_CHAT_BYTES = 64 * 1024 * 1024;

const SIZE_CLASSES: readonly SizeClass[] = [
  { name: 'under 10 KB', share: 84 / 161, median: 3900, sigma: 0.6, min: 600, max: 10 * 1024 },
  { name: '10-100 KB', share: 50 / 161, median: 22_000, sigma: 0.55, min: 10 * 1024, max: 100 * 1024 },
  { name: 'over 100 KB', share: 27 / 161, median: 1_200_000, sigma: 1.25, min: 100 * 1024, max: MAX_CHAT_BYTES },
];

/** Target size in bytes of one chat document. */
export function drawChatSize(p: Prng): number {
  let u = p.next();
  let cls = SIZE_CLASSES[SIZE_CLASSES.length - 1];
  for (const c of SIZE_CLASSES) {
    if (u < c.share) {
      cls = c;
      break;
    }
    u -= c.share;
  }
  for (;;) {
    const x = cls.median * Math.exp(cls.sigma * p.normal());
    if (x >= cls.min && x < cls.max) return Math.round(x);
  }
}

/**
 * Messages in a chat of that size. A message takes more room in larger chats
 * (longer answers, web sources): about 1.5 kB of document in a 4 kB chat,
 * 10 kB in a 2.4 MB one, each current-branch message counted twice (Open
 * WebUI stores it twice). So small chats hold a few messages and the
 * largest hundreds to a thousand.
 */
export function messageCountFor(bytes: number, p: Prng): number {
  const perMessage = 1500 * Math.pow(bytes / 4096, 0.3);
  const n = Math.round((bytes / perMessage) * (0.75 + 0.5 * p.next()));
  return Math.max(2, Math.min(1000, n));
}
