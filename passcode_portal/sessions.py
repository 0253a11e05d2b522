"""Django's database sessions (SESSION_ENGINE), read with one plain SELECT instead of a queryset.

Every request of a signed-in page reads its session, the tablet page's scans included, several a
second at a checkpoint; building the ORM's query for it cost more Python than a scan's own
answer (docs/performance.md). The statement is the one the queryset sends: the session of that
key that has not expired (``live_session_sql``, which the scan's lock statement reads a session
with too). The table, what is stored, how it is signed, and saving, expiring and deleting are
Django's own (``django.contrib.sessions.backends.db``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.base_session import AbstractBaseSession
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

from passcode_portal.dbcheck import checked_by_use
from passcode_portal.rows import named_row


def live_session_sql(quote: Callable[[str], str] | None = None) -> str:
    """The data of the live session of a key: a SELECT of one column, ``session_data``, with two
    parameters, the key and the time now (as the database stores times). The columns are those
    of Django's session model (AbstractBaseSession); the table is the model's."""
    table = Session._meta.db_table
    name = quote(table) if quote is not None else table
    return (
        f"SELECT session_data FROM {name} "  # noqa: S608 -- the model's table; values are parameters
        "WHERE session_key = %s AND expire_date > %s"
    )


@dataclass(frozen=True)
class SessionCheck:
    """A session taken on trust: its key, and the data (signed and encoded, as stored) from
    which its user was found (``passcode_portal.auth.session_on_trust``). A statement that reads
    the session again must get this very data, or the trust is void."""

    key: str
    data: str


class SessionStore(db.SessionStore):
    # The session's data as it was read (signed and encoded), or None before a read and for a
    # key that names no live session: what the scan's lock statement compares its own read with.
    read_data: str | None = None

    def _get_session_from_db(self) -> AbstractBaseSession | None:
        model = self.model
        using = router.db_for_read(model)
        connection = connections[using]
        sql = live_session_sql(quote=connection.ops.quote_name)
        now = connection.ops.adapt_datetimefield_value(timezone.now())

        def read(cursor: Any) -> Any:
            cursor.execute(sql, [self.session_key, now])
            return named_row(cursor)

        # A read, safe to send again: the request's first statement checks the connection
        # (passcode_portal.dbcheck).
        row = checked_by_use(read, using=using)
        if row is None:
            # As Django's: a key that names no live session is forgotten, and a new one is made
            # if the session is saved.
            self._session_key = None
            self.read_data = None
            return None
        key = self.session_key
        assert key is not None  # load() reads only a session that has a key
        self.read_data = row.session_data
        session: AbstractBaseSession = model(session_key=key, session_data=row.session_data)
        return session
