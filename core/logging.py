"""One logging setup for the API, the worker and `make run`, with no secret in any log line.

Secrets reach process logs through URLs: httpx logs every request URL at INFO (Trello-style
APIs take `?key=…&token=…`), and uvicorn's access log records `/oauth/callback?code=…&state=…`
and `/connect?token=<customer JWT>`. Redaction happens where each record is created (a log
record factory), so it covers every logger and every handler, including those a server such
as uvicorn configures after us.
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "[REDACTED]"

# Parameter names that are credentials on their own, and words that make any name one
# (`access_token`, `client_secret`, `x-api-key`, `hub.verify_token`...). Generic words such as
# `key` or `code` count only as the whole name, so `integrationKey=` stays readable.
_SECRET_NAMES = frozenset(
    {"code", "state", "key", "sig", "auth", "otp", "session", "sid", "pass", "pwd", "ticket"}
)
_SECRET_PART = re.compile(
    r"token|secret|passw|api[-_]?key|signature|credential|private|assertion|verifier|jwt|session",
    re.IGNORECASE,
)
# A query parameter: after `?`, `&` or `;`, a name, `=`, and a value that runs to the next
# separator, quote or whitespace.
_QUERY_PARAM = re.compile(r"(?P<lead>[?&;](?P<name>[\w.\-\[\]]+)=)(?P<value>[^&;#\s\"'<>]*)")


def is_secret_param(name: str) -> bool:
    """Whether a query parameter of this name carries a credential."""
    return name.lower() in _SECRET_NAMES or bool(_SECRET_PART.search(name))


def _mask(match: re.Match[str]) -> str:
    if match["value"] and is_secret_param(match["name"]):
        return match["lead"] + MASK
    return match[0]


_TRACEBACKS = logging.Formatter()

NOISY_LOGGERS = ("httpx", "httpcore")
"""Libraries whose INFO lines are every request URL: only their warnings are worth a line."""


def redact_query(text: str) -> str:
    """`text` with the values of credential-named query parameters masked.

    >>> redact_query("GET /oauth/callback?code=abc&state=xyz&page=2")
    'GET /oauth/callback?code=[REDACTED]&state=[REDACTED]&page=2'
    """
    if "=" not in text:
        return text
    return _QUERY_PARAM.sub(_mask, text)


def _redact_arg(value: Any) -> Any:
    if isinstance(value, (int, float, bool)) or value is None:
        return value  # numbers keep `%d` formatting working, and carry no query string
    text = value if isinstance(value, str) else str(value)
    redacted = redact_query(text)
    return value if redacted == text else redacted


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Masks credential query values in a record's message and arguments, in place."""
    if isinstance(record.msg, str):
        record.msg = redact_query(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _redact_arg(arg) for key, arg in record.args.items()}
    if record.exc_info and record.exc_info[1] is not None:
        # Formatters print `exc_text` when it is set: an exception quoting a URL (an HTTP
        # status error names the request's) is redacted like the message.
        record.exc_text = redact_query(_TRACEBACKS.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact_query(record.stack_info)
    return record


class _RedactingFactory:
    """Wraps the current log record factory; marked so installing twice is a no-op."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(self.inner(*args, **kwargs))


def install_redaction() -> None:
    """Redacts every log record from now on and quiets per-request library logs.

    Idempotent: the API calls it each time an app is created.
    """
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: int = logging.INFO) -> None:
    """The process's logging: timestamped lines on stderr, redacted (worker, CLI, dev launcher)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_redaction()
