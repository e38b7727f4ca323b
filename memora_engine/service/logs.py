"""Access-log settings of ``memora serve``: no query string is logged.

Searches and saves travel in bodies, but a listing's ``filter`` travels in the query string
(``GET .../memories?filter={...}``) and its values may be private. uvicorn logs the full path
of every request, so its access handler gets a filter that keeps the path and drops the query.

Examples:
    >>> uvicorn.run(app, log_config=access_log_config())  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import logging
from typing import Any

__all__ = ["QueryStringRedactor", "access_log_config"]

#: What replaces a dropped query string in the log.
REDACTED = "?<redacted>"


class QueryStringRedactor(logging.Filter):
    """Drop the query string from uvicorn access-log records (the path stays).

    Examples:
        >>> record = logging.makeLogRecord(
        ...     {"msg": '%s - "%s %s HTTP/%s" %d',
        ...      "args": ("127.0.0.1:1", "GET", "/v1/x?filter=secret", "1.1", 200)})
        >>> QueryStringRedactor().filter(record), record.getMessage()
        (True, '127.0.0.1:1 - "GET /v1/x?<redacted> HTTP/1.1" 200')
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, sep, _ = args[2].partition("?")
            if sep:
                record.args = (*args[:2], path + REDACTED, *args[3:])
        return True


def access_log_config() -> dict[str, Any]:
    """uvicorn's default logging settings, with :class:`QueryStringRedactor` on access lines."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["no_query_string"] = {"()": QueryStringRedactor}
    config["handlers"]["access"]["filters"] = ["no_query_string"]
    return config
