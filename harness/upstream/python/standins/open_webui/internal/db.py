"""`JSONField`: the text-backed JSON column type Open WebUI's early revisions use.

Values are written as `json.dumps` text into a text column and read back with
`json.loads`; None stays SQL NULL.
"""

import json

from sqlalchemy import types


class JSONField(types.TypeDecorator):
    impl = types.UnicodeText
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)

    def copy(self, **kw):
        return JSONField(self.impl.length)
