/**
 * How the harness tells its own connections apart in `pg_stat_activity`:
 * every connection it opens has an `application_name` starting with
 * `owui-harness:`; the migration's own are `owui-harness:migration…`.
 * An external command's connections carry their own names; on the database
 * under test, anything that is not a harness helper is the migration.
 */

const HARNESS_PREFIX = 'owui-harness:';
export const MIGRATION_ROLE = 'migration';

/** SQL predicate over `pg_stat_activity` (alias `a`) selecting the migration's backends on `db` ($1). */
export function migrationBackendsWhere(external: boolean): string {
  return external
    ? `a.datname = $1 AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid() AND coalesce(a.application_name, '') NOT LIKE '${HARNESS_PREFIX}%'`
    : `a.datname = $1 AND a.backend_type = 'client backend' AND a.application_name LIKE '${HARNESS_PREFIX}${MIGRATION_ROLE}%'`;
}
