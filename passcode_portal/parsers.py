"""The API's JSON parser: DRF's, refusing what ``json.loads`` cannot take as a 400.

``json.loads`` recurses once per level of nesting, so a few kilobytes of ``[[[[...]]]]`` raise
RecursionError, which DRF's parser lets through as a 500. This one refuses nesting deeper than
any body of this API needs as a parse error, the 400 every other unreadable body gets, with a
message in the user's language. (The size of a body is Django's DATA_UPLOAD_MAX_MEMORY_SIZE:
DRF reads it through ``request.body``, which raises RequestDataTooBig past it, and
``passcode_portal.api`` answers that.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers
from rest_framework.utils.json import strict_constant

# Levels of arrays and objects in one body. The deepest input of the API nests three (a trip,
# its co-riders, one co-rider); a policy or an import row may nest a few more.
MAX_DEPTH = 32


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in ``value`` nest more than ``limit`` levels; walked without
    recursion, since the point is a value too deep to recurse over."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = str((parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET)
        try:
            # Text encodings only, as DRF's own parser checks: str.encode() refuses the
            # bytes-to-bytes codecs (bz2_codec) that would decompress a small body without bound.
            "".encode(encoding)
        except (LookupError, UnicodeError):
            raise exceptions.ParseError(
                _("The request names a character set this API does not read.")
            ) from None
        parse_constant = strict_constant if self.strict else None
        try:
            data = json.loads(stream.read().decode(encoding), parse_constant=parse_constant)
        except RecursionError:
            raise exceptions.ParseError(_("The request body is nested too deeply.")) from None
        except json.JSONDecodeError as exc:
            raise exceptions.ParseError(
                _("The request body is not valid JSON (line %(line)d, column %(column)d).")
                % {"line": exc.lineno, "column": exc.colno}
            ) from None
        except ValueError:  # not text in its character set, or NaN or Infinity
            raise exceptions.ParseError(_("The request body is not valid JSON.")) from None
        if isinstance(data, dict | list) and too_deep(data):
            raise exceptions.ParseError(_("The request body is nested too deeply."))
        return data
