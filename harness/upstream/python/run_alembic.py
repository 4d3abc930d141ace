"""Entry point the harness runs with the chosen interpreter.

  run_alembic.py probe                      print the versions as JSON
  run_alembic.py upgrade <dir> <target>     alembic upgrade <target> with the
                                            workspace <dir> (alembic.ini, env.py,
                                            versions/), through Alembic's own
                                            command line entry point

Log lines go to stderr as `<unix time with ms> <LEVEL> [<logger>] <message>`,
so the harness can attribute what it measures to the revision running at the
time (Alembic logs "Running upgrade A -> B, ..." as each revision starts).
"""

import json
import logging
import os
import sys


def probe() -> int:
    out = {"python": sys.version.split()[0], "executable": sys.executable}
    missing = []
    for module, key in (("alembic", "alembic"), ("sqlalchemy", "sqlalchemy"), ("psycopg2", "psycopg2")):
        try:
            mod = __import__(module)
            out[key] = getattr(mod, "__version__", "unknown").split()[0]
        except Exception as exc:  # an import that fails for any reason counts as missing
            missing.append(f"{module} ({type(exc).__name__}: {exc})")
    out["missing"] = missing
    print(json.dumps(out))
    return 0


class _Stamped(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.created:.3f} {record.levelname} [{record.name}] {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def upgrade(workspace: str, target: str) -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Stamped())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # The driver's and the engine's chatter would drown the migration's own lines.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)

    from alembic.config import main

    main(argv=["-c", os.path.join(workspace, "alembic.ini"), "upgrade", target], prog="alembic")
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "probe":
        sys.exit(probe())
    if len(sys.argv) == 4 and sys.argv[1] == "upgrade":
        sys.exit(upgrade(sys.argv[2], sys.argv[3]))
    sys.stderr.write("usage: run_alembic.py probe | upgrade <workspace> <target>\n")
    sys.exit(2)
