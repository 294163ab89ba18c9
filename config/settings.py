"""Configuration from environment variables.

Unset means the embedded default (a Temporal dev server and a PostgreSQL started under the
data folder); set means a real service that reviewflow connects to and never starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

# Every environment variable reviewflow reads (README's configuration table lists them).
ENVIRONMENT_VARIABLES = (
    "REVIEWFLOW_HOST",
    "REVIEWFLOW_PORT",
    "REVIEWFLOW_PUBLIC_URL",
    "REVIEWFLOW_DATA_DIR",
    "REVIEWFLOW_ADMIN_TOKEN",
    "REVIEWFLOW_NOTIFY_RATE",
    "REVIEWFLOW_WEBHOOK_ALLOW",
    "REVIEWFLOW_RETENTION_DAYS",
    "REVIEWFLOW_IDEMPOTENCY_DAYS",
    "REVIEWFLOW_RATE_LIMIT",
    "REVIEWFLOW_RATE_BURST",
    "REVIEWFLOW_SESSION_IDLE_MINUTES",
    "REVIEWFLOW_SESSION_HOURS",
    "REVIEWFLOW_WORKER_METRICS_ADDRESS",
    "DATABASE_URL",
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_TASK_QUEUE",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "SMTP_TLS",
    "SMTP_ALLOW_PLAINTEXT_AUTH",
    "MAIL_FROM",
)

# Far above what a person or a well-behaved integration sends, far below what would let one
# client keep the API busy.
DEFAULT_RATE_LIMIT = 50.0
DEFAULT_RATE_BURST = 200

DEFAULT_TEMPORAL_PORT = 7233
DEFAULT_TEMPORAL_UI_PORT = 8233


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    # Never in a printout of the settings (a log line, a traceback).
    password: str | None = field(repr=False)
    starttls: bool
    # TLS from the first byte (SMTPS, usually port 465) rather than STARTTLS.
    tls: bool = False


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    data_dir: Path
    admin_token: str | None
    database_url: str | None
    temporal_address: str | None
    temporal_namespace: str
    task_queue: str
    smtp: SmtpSettings | None
    mail_from: str
    # Messages (email and webhook) sent per second at most; 0 for no limit.
    notify_rate: float = 100.0
    # Non-public networks webhooks may reach (docs/webhooks.md); empty: public addresses only.
    webhook_allow: str = ""
    # Days a written .eml file, and an Idempotency-Key's stored answer, are kept.
    retention_days: int = 90
    idempotency_days: int = 7
    # API requests per second each client (bearer token, or address without one) may send on
    # average, and how many it may send at once after a quiet spell; rate 0 for no limit.
    rate_limit: float = DEFAULT_RATE_LIMIT
    rate_burst: int = DEFAULT_RATE_BURST
    # Where people reach the API (behind a proxy, say https://reviews.example.org); None: at
    # this process's own address.
    public_url: str | None = None
    # A web session ends after this many minutes without a request, and this many hours after
    # sign-in whatever its use.
    session_idle_minutes: int = 30
    session_hours: int = 12
    # Where the worker serves the Temporal SDK's Prometheus metrics (host:port); None: nowhere.
    worker_metrics_address: str | None = None

    @property
    def notify_task_queue(self) -> str:
        """Sending runs on its own task queue, so a slow mail server never holds up a review."""
        return f"{self.task_queue}-notify"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def api_url(self) -> str:
        """The base of every link to the API (in messages, in the start banner)."""
        if self.public_url is not None:
            return self.public_url
        # An address to listen on everywhere is none to connect to.
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"


_N = TypeVar("_N", int, float)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    return _number(
        env,
        name,
        default,
        int,
        valid=lambda port: 0 < port < 65536,
        expected="a port number",
        bounds="between 1 and 65535",
    )


def _rate(env: Mapping[str, str], name: str, default: float, unit: str = "messages") -> float:
    per_second = f"a number of {unit} per second"
    return _number(
        env,
        name,
        default,
        float,
        valid=lambda rate: 0 <= rate < float("inf"),
        expected=per_second,
        bounds=per_second,
    )


def _number(
    env: Mapping[str, str],
    name: str,
    default: _N,
    parse: Callable[[str], _N],
    *,
    valid: Callable[[_N], bool],
    expected: str,
    bounds: str,
) -> _N:
    """`name` parsed by `parse` (`default` when unset or empty); one that does not parse is
    not `expected`, one that parses but is not `valid` is out of `bounds`."""
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = parse(raw)
    except ValueError:
        raise SystemExit(f"{name} must be {expected}, got {raw!r}") from None
    if not valid(value):
        raise SystemExit(f"{name} must be {bounds}, got {value}")
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of at least 1, written in ASCII digits."""
    raw = env.get(name)
    if not raw:
        return default
    digits = raw.strip()
    if not (digits.isascii() and digits.isdecimal()) or int(digits) < 1:
        raise SystemExit(f"{name} must be a whole number, at least 1, got {raw!r}")
    return int(digits)


def _public_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("REVIEWFLOW_PUBLIC_URL") or None
    if raw is None:
        return None
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise SystemExit(
            "REVIEWFLOW_PUBLIC_URL must be an http(s) address without query or fragment, such"
            f" as https://reviews.example.org, got {raw!r}"
        )
    return raw.rstrip("/")


def _smtp(env: Mapping[str, str]) -> SmtpSettings | None:
    host = env.get("SMTP_HOST") or None
    if host is None:
        return None
    tls = _flag(env.get("SMTP_TLS"))
    starttls = not tls and _flag(env.get("SMTP_STARTTLS", "1"))
    password = env.get("SMTP_PASSWORD") or None
    if password and not (tls or starttls) and not _flag(env.get("SMTP_ALLOW_PLAINTEXT_AUTH")):
        raise SystemExit(
            "SMTP_PASSWORD is set but neither SMTP_TLS nor SMTP_STARTTLS is on, so the password"
            " would cross the network in clear; turn one on, or set SMTP_ALLOW_PLAINTEXT_AUTH=1"
            " for a relay on a link you trust"
        )
    return SmtpSettings(
        host=host,
        port=_port(env, "SMTP_PORT", 465 if tls else 587),
        user=env.get("SMTP_USER") or None,
        password=password,
        starttls=starttls,
        tls=tls,
    )


def _listen_address(env: Mapping[str, str], name: str) -> str | None:
    """A `host:port` to listen on (`[::1]:9464` for IPv6), or None when unset."""
    raw = env.get(name) or None
    if raw is None:
        return None
    host, sep, port = raw.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdecimal()):
        raise SystemExit(f"{name} must be host:port, such as 0.0.0.0:9464, got {raw!r}")
    if not 0 < int(port) < 65536:
        raise SystemExit(f"{name} must have a port between 1 and 65535, got {raw!r}")
    return raw


# As long as a generated token's 43 characters of randomness, give or take a prefix.
MIN_ADMIN_TOKEN_LENGTH = 32


def _admin_token(env: Mapping[str, str]) -> str | None:
    token = env.get("REVIEWFLOW_ADMIN_TOKEN") or None
    if token is None:
        return None
    if len(token) < MIN_ADMIN_TOKEN_LENGTH or not token.isascii() or not token.isprintable():
        raise SystemExit(
            f"REVIEWFLOW_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} printable ASCII"
            " characters, such as the output of"
            " python3 -c \"import secrets; print('rf_' + secrets.token_urlsafe(32))\";"
            " or leave it unset to have one generated"
        )
    if " " in token:
        raise SystemExit("REVIEWFLOW_ADMIN_TOKEN must not contain spaces")
    return token


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    smtp = _smtp(env)
    return Settings(
        host=env.get("REVIEWFLOW_HOST") or "127.0.0.1",
        port=_port(env, "REVIEWFLOW_PORT", 8080),
        data_dir=Path(env.get("REVIEWFLOW_DATA_DIR") or ".data").resolve(),
        admin_token=_admin_token(env),
        database_url=env.get("DATABASE_URL") or None,
        temporal_address=env.get("TEMPORAL_ADDRESS") or None,
        temporal_namespace=env.get("TEMPORAL_NAMESPACE") or "default",
        task_queue=env.get("TEMPORAL_TASK_QUEUE") or "reviewflow",
        smtp=smtp,
        mail_from=env.get("MAIL_FROM") or "reviewflow <no-reply@reviewflow.localhost>",
        notify_rate=_rate(env, "REVIEWFLOW_NOTIFY_RATE", 100.0),
        webhook_allow=env.get("REVIEWFLOW_WEBHOOK_ALLOW") or "",
        retention_days=_count(env, "REVIEWFLOW_RETENTION_DAYS", 90),
        idempotency_days=_count(env, "REVIEWFLOW_IDEMPOTENCY_DAYS", 7),
        rate_limit=_rate(env, "REVIEWFLOW_RATE_LIMIT", DEFAULT_RATE_LIMIT, "requests"),
        rate_burst=_count(env, "REVIEWFLOW_RATE_BURST", DEFAULT_RATE_BURST),
        public_url=_public_url(env),
        session_idle_minutes=_count(env, "REVIEWFLOW_SESSION_IDLE_MINUTES", 30),
        session_hours=_count(env, "REVIEWFLOW_SESSION_HOURS", 12),
        worker_metrics_address=_listen_address(env, "REVIEWFLOW_WORKER_METRICS_ADDRESS"),
    )
