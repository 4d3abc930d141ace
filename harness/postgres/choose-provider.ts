/**
 * `--provider auto`: Testcontainers when a container runtime answers,
 * otherwise the embedded server; `url` when a database URL is given. Says
 * which and why.
 */
import { UsageError } from '../errors.ts';
import type { ProviderName } from './started-postgres.ts';
import { containerRuntimeAnswers } from './testcontainers-server.ts';

export type ProviderChoice = 'auto' | ProviderName;

/** Throws the UsageError a provider and a database URL that do not go together deserve (before anything starts). */
export async function checkProviderChoice(choice: ProviderChoice, databaseUrl: string | undefined): Promise<void> {
  if (choice === 'url' && !databaseUrl) throw new UsageError('--provider url needs --database-url postgres://user:password@host:5432/database');
  if (choice !== 'url' && choice !== 'auto' && databaseUrl) throw new UsageError(`--database-url cannot be used with --provider ${choice}; use --provider url (or auto)`);
}

export async function chooseProvider(
  choice: ProviderChoice,
  databaseUrl: string | undefined,
): Promise<{ provider: ProviderName; why: string }> {
  await checkProviderChoice(choice, databaseUrl);
  if (choice === 'url' || (choice === 'auto' && databaseUrl)) return { provider: 'url', why: 'a database URL was given (--database-url)' };
  if (choice === 'embedded') return { provider: 'embedded', why: 'asked for with --provider embedded' };
  if (choice === 'testcontainers') return { provider: 'testcontainers', why: 'asked for with --provider testcontainers' };
  const rt = await containerRuntimeAnswers();
  if (rt.ok) return { provider: 'testcontainers', why: `a ${rt.detail} answers; pass --provider embedded to use the embedded server instead` };
  return {
    provider: 'embedded',
    why: `no container runtime answered (${rt.detail}); using the embedded server; pass --provider testcontainers to require Docker (harness/postgres/docker/start-docker-engine.sh starts one here)`,
  };
}
