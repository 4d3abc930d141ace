/**
 * Which of the harness's ports stands for a checkout's revision file of
 * 8452d01d26d7: read from the file's text, by the traits that tell upstream's
 * releases apart. `fidelity` compares the file with this port, and `repro
 * --openwebui` runs the file in place of it.
 *
 *   commits by itself (`conn.commit()`)                  the fix: chunked
 *   returns early when chat_message exists               the current release: v0.9.6
 *   streams with a server-side cursor (`yield_per`)      v0.8.12: original
 *   reads every chat at once (`fetchall`)                v0.8.0
 */

export interface PortOfRevision {
  /** The port's strategy name, or null when the file matches none of them. */
  port: 'chunked' | 'v0.9.6' | 'original' | 'v0.8.0' | null;
  /** The trait that decided it. */
  why: string;
}

function code(text: string): string {
  // Comments and docstrings describe; only code decides.
  return text
    .replace(/("""|''')[\s\S]*?\1/g, '')
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join('\n');
}

export function portOfRevision(text: string): PortOfRevision {
  const c = code(text);
  if (/\b(?:conn|connection|bind)\.commit\(\)|get_bind\(\)\.commit\(\)/.test(c)) return { port: 'chunked', why: 'it commits by itself (conn.commit()), as the fix does' };
  if (/['"]chat_message['"]\s+in\s+\w+/.test(c)) return { port: 'v0.9.6', why: 'it returns at once when chat_message exists, as the current release does' };
  if (/yield_per/.test(c)) return { port: 'original', why: 'it streams chats with a server-side cursor (yield_per), as v0.8.12 does' };
  if (/fetchall\(\)/.test(c)) return { port: 'v0.8.0', why: 'it reads every chat at once (fetchall), as v0.8.0 does' };
  return { port: null, why: 'none of the traits of upstream releases (commits, an early return, yield_per, fetchall) is in it' };
}
