"""Helpers some Open WebUI revisions import: the tables that exist, a fresh revision id."""

import uuid

from alembic import op
from sqlalchemy import inspect


def get_existing_tables():
    return set(inspect(op.get_bind()).get_table_names())


def get_revision_id():
    return uuid.uuid4().hex[:12]
