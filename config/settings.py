"""Configuration from environment variables.

Unset means the embedded default (a Temporal dev server and a PostgreSQL started under the
data folder by `reviewflow dev`); set means a real service that reviewflow connects to and
never starts. Every problem with the variables is found in one reading (`read_settings`).
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import SplitResult, urlsplit

from temporalio.envconfig import ClientConfigProfile, ClientConfigTLS

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
    "REVIEWFLOW_DELIVERY_DAYS",
    "REVIEWFLOW_SESSION_DAYS",
    "REVIEWFLOW_RATE_LIMIT",
    "REVIEWFLOW_RATE_BURST",
    "REVIEWFLOW_SESSION_IDLE_MINUTES",
    "REVIEWFLOW_SESSION_HOURS",
    "REVIEWFLOW_OIDC_ISSUER",
    "REVIEWFLOW_OIDC_CLIENT_ID",
    "REVIEWFLOW_OIDC_CLIENT_SECRET",
    "REVIEWFLOW_OIDC_LABEL",
    "REVIEWFLOW_TRUSTED_PROXIES",
    "REVIEWFLOW_WORKER_METRICS_ADDRESS",
    "DATABASE_URL",
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_TASK_QUEUE",
    "TEMPORAL_API_KEY",
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "TEMPORAL_TLS_SERVER_NAME",
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

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

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
class OidcSettings:
    """Single sign-on for staff with an OpenID provider (docs/sso.md)."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    # The provider's name on the sign-in page's button, "Sign in with <label>"; None: the
    # button names no provider.
    label: str | None = None


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
    # TLS to Temporal (the SDK's own settings, files by path), None for none unless an API key
    # is set: a key alone means TLS with the system's certificate authorities (Temporal Cloud).
    temporal_tls: ClientConfigTLS | None = None
    temporal_api_key: str | None = field(default=None, repr=False)
    # Messages (email and webhook) sent per second at most; 0 for no limit.
    notify_rate: float = 100.0
    # Non-public networks webhooks may reach (docs/webhooks.md); empty: public addresses only.
    webhook_allow: str = ""
    # Days a written .eml file, and an Idempotency-Key's stored answer, are kept; days a
    # settled delivery's attempts are kept; days a web session or sign-in link is kept once it
    # ended (services/retention.py).
    retention_days: int = 90
    idempotency_days: int = 7
    delivery_days: int = 30
    session_days: int = 30
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
    # None: no single sign-on, only links sent by email.
    oidc: OidcSettings | None = None
    # Peers whose X-Forwarded-For is believed (the reverse proxies in front); empty: none, and
    # each client is the address its connection comes from.
    trusted_proxies: tuple[Network, ...] = ()
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


_T = TypeVar("_T")
_N = TypeVar("_N", int, float)


class _Environment:
    """The variables being read, and every problem found with them: all are reported at once,
    so an operator fixes a deployment in one round rather than one variable per attempt."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def get(self, name: str) -> str | None:
        """The variable's value; unset and empty are the same (a compose file's `NAME:`)."""
        return self.env.get(name) or None

    def refuse(self, problem: str, fallback: _T) -> _T:
        """Note `problem` and go on reading with `fallback` in the variable's place."""
        self.problems.append(problem)
        return fallback


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _port(env: _Environment, name: str, default: int) -> int:
    return _number(
        env,
        name,
        default,
        int,
        valid=lambda port: 0 < port < 65536,
        expected="a port number",
        bounds="between 1 and 65535",
    )


def _rate(env: _Environment, name: str, default: float, unit: str = "messages") -> float:
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
    env: _Environment,
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
    if raw is None:
        return default
    try:
        value = parse(raw)
    except ValueError:
        return env.refuse(f"{name} must be {expected}, got {raw!r}", default)
    if not valid(value):
        return env.refuse(f"{name} must be {bounds}, got {value}", default)
    return value


def _count(env: _Environment, name: str, default: int) -> int:
    """A whole number of at least 1, written in ASCII digits."""
    raw = env.get(name)
    if raw is None:
        return default
    digits = raw.strip()
    if not (digits.isascii() and digits.isdecimal()) or int(digits) < 1:
        return env.refuse(f"{name} must be a whole number, at least 1, got {raw!r}", default)
    return int(digits)


def _split_url(raw: str) -> SplitResult | None:
    """The parts of the URL `raw`; None for one that is not (a port that is not a number)."""
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        return None
    return parts


def _public_url(env: _Environment) -> str | None:
    raw = env.get("REVIEWFLOW_PUBLIC_URL")
    if raw is None:
        return None
    parts = _split_url(raw)
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        return env.refuse(
            "REVIEWFLOW_PUBLIC_URL must be an http(s) address without query or fragment, such"
            f" as https://reviews.example.org, got {raw!r}",
            None,
        )
    return raw.rstrip("/")


def _trusted_proxies(env: _Environment) -> tuple[Network, ...]:
    networks = []
    for entry in (
        part.strip() for part in (env.get("REVIEWFLOW_TRUSTED_PROXIES") or "").split(",")
    ):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry))
        except ValueError as error:
            return env.refuse(
                "REVIEWFLOW_TRUSTED_PROXIES must be addresses or networks separated by commas,"
                f" such as 127.0.0.1/32,10.0.0.0/8: {error}",
                (),
            )
    return tuple(networks)


def _database_url(env: _Environment) -> str | None:
    """A PostgreSQL URL, checked for its form only (check-config tries to connect)."""
    raw = env.get("DATABASE_URL")
    if raw is None:
        return None
    parts = _split_url(raw)
    if parts is None or parts.scheme not in ("postgres", "postgresql"):
        # Never the value: it may hold a password.
        return env.refuse(
            "DATABASE_URL must be a PostgreSQL URL such as"
            " postgresql://user:password@host:5432/database",
            None,
        )
    return raw


def _smtp(env: _Environment) -> SmtpSettings | None:
    host = env.get("SMTP_HOST")
    if host is None:
        return None
    tls = _flag(env.get("SMTP_TLS"))
    starttls = not tls and _flag(env.env.get("SMTP_STARTTLS", "1"))
    password = env.get("SMTP_PASSWORD")
    if password and not (tls or starttls) and not _flag(env.get("SMTP_ALLOW_PLAINTEXT_AUTH")):
        env.refuse(
            "SMTP_PASSWORD is set but neither SMTP_TLS nor SMTP_STARTTLS is on, so the password"
            " would cross the network in clear; turn one on, or set SMTP_ALLOW_PLAINTEXT_AUTH=1"
            " for a relay on a link you trust",
            None,
        )
    return SmtpSettings(
        host=host,
        port=_port(env, "SMTP_PORT", 465 if tls else 587),
        user=env.get("SMTP_USER"),
        password=password,
        starttls=starttls,
        tls=tls,
    )


def temporal_address(env: _Environment) -> str | None:
    raw = env.get("TEMPORAL_ADDRESS")
    if raw is None:
        return None
    try:
        parts = urlsplit(f"//{raw}")
        port = parts.port
    except ValueError:
        port = None
    if port is None or not parts.hostname or parts.path or parts.username is not None:
        return env.refuse(
            f"TEMPORAL_ADDRESS must be host:port, such as temporal.example.org:7233, got {raw!r}",
            None,
        )
    return raw


# The SDK's own variables for TLS to Temporal (temporalio.envconfig), the files by path only.
TEMPORAL_TLS_VARIABLES = (
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_CERT_PATH",
    "TEMPORAL_TLS_CLIENT_KEY_PATH",
    "TEMPORAL_TLS_SERVER_NAME",
)
_FLAG_WORDS = {"1", "true", "yes", "on", "0", "false", "no", "off"}


def temporal_tls(env: _Environment) -> ClientConfigTLS | None:
    """TLS to Temporal as the SDK reads it from these variables (no config file, no other
    variable), with its files checked now rather than at the first connection."""
    given = {name: value for name in TEMPORAL_TLS_VARIABLES if (value := env.get(name))}
    switch = given.get("TEMPORAL_TLS")
    if switch is not None and switch.strip().lower() not in _FLAG_WORDS:
        # The SDK would take any other word for "on".
        return env.refuse(f"TEMPORAL_TLS must be true or false, got {switch!r}", None)
    if not given:
        return None
    tls = ClientConfigProfile.load(disable_file=True, override_env_vars=given).tls
    if tls is None or tls.disabled:
        return tls
    problems = _tls_file_problems(tls)
    return tls if not problems else env.refuse("; ".join(problems), None)


def _tls_file_problems(tls: ClientConfigTLS) -> list[str]:
    """What is wrong with the files: missing, unreadable, not PEM, a key not the certificate's."""
    problems = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    certificates = [
        ("TEMPORAL_TLS_SERVER_CA_CERT_PATH", tls.server_root_ca_cert),
        ("TEMPORAL_TLS_CLIENT_CERT_PATH", tls.client_cert),
    ]
    for name, path in certificates:
        if path is not None:
            problem = _pem_problem(
                name, str(path), "a PEM certificate", context.load_verify_locations
            )
            problems += [problem] if problem else []
    cert, key = tls.client_cert, tls.client_private_key
    if (cert is None) != (key is None):
        return [
            *problems,
            "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: set both",
        ]
    if cert is not None and key is not None and not problems:
        problem = _pem_problem(
            "TEMPORAL_TLS_CLIENT_KEY_PATH",
            str(key),
            "the PEM private key of the certificate in TEMPORAL_TLS_CLIENT_CERT_PATH",
            lambda path: context.load_cert_chain(str(cert), path),
        )
        problems += [problem] if problem else []
    return problems


def _pem_problem(name: str, path: str, what: str, load: Callable[[str], object]) -> str | None:
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        return f"{name}: {path} does not exist"
    except OSError as error:
        return f"{name}: {path} cannot be read ({error.strerror})"
    try:
        load(path)
    except ssl.SSLError:
        return f"{name}: {path} is not {what}"
    return None


def _listen_address(env: _Environment, name: str) -> str | None:
    """A `host:port` to listen on (`[::1]:9464` for IPv6), or None when unset."""
    raw = env.get(name)
    if raw is None:
        return None
    host, sep, port = raw.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdecimal()):
        return env.refuse(f"{name} must be host:port, such as 0.0.0.0:9464, got {raw!r}", None)
    if not 0 < int(port) < 65536:
        return env.refuse(f"{name} must have a port between 1 and 65535, got {raw!r}", None)
    return raw


# As long as a generated token's 43 characters of randomness, give or take a prefix.
MIN_ADMIN_TOKEN_LENGTH = 32


def _admin_token(env: _Environment) -> str | None:
    token = env.get("REVIEWFLOW_ADMIN_TOKEN")
    if token is None:
        return None
    if len(token) < MIN_ADMIN_TOKEN_LENGTH or not token.isascii() or not token.isprintable():
        return env.refuse(
            f"REVIEWFLOW_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} printable ASCII"
            " characters, such as the output of"
            " python3 -c \"import secrets; print('rf_' + secrets.token_urlsafe(32))\";"
            " or leave it unset to have one generated",
            None,
        )
    if " " in token:
        return env.refuse("REVIEWFLOW_ADMIN_TOKEN must not contain spaces", None)
    return token


OIDC_REQUIRED = (
    "REVIEWFLOW_OIDC_ISSUER",
    "REVIEWFLOW_OIDC_CLIENT_ID",
    "REVIEWFLOW_OIDC_CLIENT_SECRET",
)
# Plain http reaches a provider only on this machine (a test's, a developer's).
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def _oidc_issuer(env: _Environment, raw: str) -> str | None:
    parts = _split_url(raw)
    secure = parts is not None and (
        parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
    )
    if parts is None or not secure or not parts.hostname or parts.query or parts.fragment:
        return env.refuse(
            "REVIEWFLOW_OIDC_ISSUER must be the provider's https address without query or"
            f" fragment, such as https://login.example.org/realms/staff, got {raw!r}",
            None,
        )
    # Kept as written, a final slash too: the provider's tokens must name it exactly so.
    return raw


def _oidc(env: _Environment) -> OidcSettings | None:
    given = [name for name in OIDC_REQUIRED if env.get(name)]
    if not given:
        return None
    missing = [name for name in OIDC_REQUIRED if name not in given]
    if missing:
        return env.refuse(
            f"single sign-on needs {', '.join(OIDC_REQUIRED)} together; {', '.join(missing)}"
            " not set",
            None,
        )
    issuer = _oidc_issuer(env, env.env["REVIEWFLOW_OIDC_ISSUER"])
    if issuer is None:
        return None
    return OidcSettings(
        issuer=issuer,
        client_id=env.env["REVIEWFLOW_OIDC_CLIENT_ID"],
        client_secret=env.env["REVIEWFLOW_OIDC_CLIENT_SECRET"],
        label=(env.get("REVIEWFLOW_OIDC_LABEL") or "").strip() or None,
    )


def read_settings(env: Mapping[str, str]) -> tuple[Settings, list[str]]:
    """The settings `env` gives, and every problem with its variables (a variable with a
    problem read as if unset)."""
    reading = _Environment(env)
    settings = Settings(
        host=reading.get("REVIEWFLOW_HOST") or "127.0.0.1",
        port=_port(reading, "REVIEWFLOW_PORT", 8080),
        data_dir=Path(reading.get("REVIEWFLOW_DATA_DIR") or ".data").resolve(),
        admin_token=_admin_token(reading),
        database_url=_database_url(reading),
        temporal_address=temporal_address(reading),
        temporal_namespace=reading.get("TEMPORAL_NAMESPACE") or "default",
        task_queue=reading.get("TEMPORAL_TASK_QUEUE") or "reviewflow",
        temporal_tls=temporal_tls(reading),
        temporal_api_key=reading.get("TEMPORAL_API_KEY"),
        smtp=_smtp(reading),
        mail_from=reading.get("MAIL_FROM") or "reviewflow <no-reply@reviewflow.localhost>",
        notify_rate=_rate(reading, "REVIEWFLOW_NOTIFY_RATE", 100.0),
        webhook_allow=reading.get("REVIEWFLOW_WEBHOOK_ALLOW") or "",
        retention_days=_count(reading, "REVIEWFLOW_RETENTION_DAYS", 90),
        idempotency_days=_count(reading, "REVIEWFLOW_IDEMPOTENCY_DAYS", 7),
        delivery_days=_count(reading, "REVIEWFLOW_DELIVERY_DAYS", 30),
        session_days=_count(reading, "REVIEWFLOW_SESSION_DAYS", 30),
        rate_limit=_rate(reading, "REVIEWFLOW_RATE_LIMIT", DEFAULT_RATE_LIMIT, "requests"),
        rate_burst=_count(reading, "REVIEWFLOW_RATE_BURST", DEFAULT_RATE_BURST),
        public_url=_public_url(reading),
        session_idle_minutes=_count(reading, "REVIEWFLOW_SESSION_IDLE_MINUTES", 30),
        session_hours=_count(reading, "REVIEWFLOW_SESSION_HOURS", 12),
        oidc=_oidc(reading),
        trusted_proxies=_trusted_proxies(reading),
        worker_metrics_address=_listen_address(reading, "REVIEWFLOW_WORKER_METRICS_ADDRESS"),
    )
    return settings, reading.problems


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings of this process; a variable with a problem stops it, each problem said on
    a line of its own."""
    settings, problems = read_settings(os.environ if env is None else env)
    if problems:
        raise SystemExit("\n".join(problems))
    return settings
