"""Django's database sessions (SESSION_ENGINE), read with one plain SELECT instead of a queryset.

Every request of a signed-in page reads its session, the tablet page's scans included, several a
second at a checkpoint; building the ORM's query for it cost more Python than a scan's own
answer (docs/performance.md). The statement is the one the queryset sends: the session of that
key that has not expired. The table, what is stored, how it is signed, and saving, expiring and
deleting are Django's own (``django.contrib.sessions.backends.db``).
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> AbstractBaseSession | None:
        model = self.model
        connection = connections[router.db_for_read(model)]
        # The columns of Django's session model (AbstractBaseSession); the table is the model's.
        # Every value is a parameter.
        sql = (
            "SELECT session_data FROM "  # noqa: S608
            f"{connection.ops.quote_name(model._meta.db_table)} "
            "WHERE session_key = %s AND expire_date > %s"
        )
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            # As Django's: a key that names no live session is forgotten, and a new one is made
            # if the session is saved.
            self._session_key = None
            return None
        key = self.session_key
        assert key is not None  # load() reads only a session that has a key
        session: AbstractBaseSession = model(session_key=key, session_data=row[0])
        return session
