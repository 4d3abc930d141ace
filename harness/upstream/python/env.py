"""The harness's own Alembic environment, in place of Open WebUI's env.py.

Open WebUI's env.py imports the whole application (its models, its settings)
only to learn the database URL and a metadata object that an upgrade never
uses. This one keeps what decides how an upgrade behaves and drops the rest:
one connection with no pool, a SQLAlchemy 2.0-style connection (the kind
Open WebUI's SQLAlchemy 2.x hands to migrations, where `conn.commit()`
exists), and the transaction shape chosen by OWUI_HARNESS_ALEMBIC_ENV:

  single         one `begin_transaction()` around the whole run, as Open
                 WebUI's env.py ships
  per-migration  `transaction_per_migration=True`, as the fix's pull request
                 sets it
"""

import logging
import os
import sys

from alembic import context
from sqlalchemy import create_engine, pool

shape = os.environ.get("OWUI_HARNESS_ALEMBIC_ENV", "single")
if shape not in ("single", "per-migration"):
    raise SystemExit(f"OWUI_HARNESS_ALEMBIC_ENV is {shape!r}; allowed: single, per-migration")


def _url() -> str:
    url = os.environ["DATABASE_URL"]
    # SQLAlchemy only knows the postgresql:// spelling; psycopg2 is the driver Open WebUI's migrations run on.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix):]
    return url


def run_migrations_online() -> None:
    # future=True gives SQLAlchemy 1.4 the 2.0 connection semantics; 2.x only accepts True.
    engine = create_engine(_url(), poolclass=pool.NullPool, future=True)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=None,
            transaction_per_migration=(shape == "per-migration"),
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the harness runs migrations online only")
logging.getLogger(__name__).info("harness alembic environment: %s", shape)
run_migrations_online()
