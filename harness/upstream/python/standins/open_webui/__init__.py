"""A stand-in for the parts of Open WebUI that its Alembic revisions import.

Importing the real package starts the whole application (settings, models,
optional services); a revision only needs a JSON column type and a helper
that lists tables. These are written from what the revisions use, nothing
more. Anything else a revision imports from `open_webui` fails with an
ImportError that names it.
"""
