"""The one way reviewflow connects to Temporal: the address and namespace of the settings,
with TLS and an API key when the environment gives them (temporalio.envconfig's variables)."""

from __future__ import annotations

import re
from typing import Any

from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile, ClientConnectConfig
from temporalio.runtime import Runtime

from config.settings import Settings


class TemporalUnreachable(RuntimeError):
    """Temporal could not be reached; the message is one line for the operator."""


def connect_config(settings: Settings, address: str | None = None) -> ClientConnectConfig:
    """The arguments of `Client.connect` for `address` (the settings' own by default)."""
    target = address or settings.temporal_address
    if target is None:
        raise ValueError("no Temporal address")
    profile = ClientConfigProfile(
        address=target,
        namespace=settings.temporal_namespace,
        api_key=settings.temporal_api_key,
        tls=settings.temporal_tls,
    )
    return profile.to_client_connect_config()


async def connect_temporal(
    settings: Settings,
    address: str | None = None,
    *,
    runtime: Runtime | None = None,
    lazy: bool = False,
    **kwargs: Any,
) -> Client:
    """A client of the settings' Temporal (or `address`), with `kwargs` passed to
    `Client.connect`; an unreachable server raises TemporalUnreachable with one line."""
    config = connect_config(settings, address)
    try:
        return await Client.connect(**config, runtime=runtime, lazy=lazy, **kwargs)
    except RuntimeError as error:
        raise TemporalUnreachable(
            f"Temporal at {config['target_host']} cannot be reached:"
            f" {_reason(error, config.get('tls', False) is not False)}"
        ) from error


# The cause the SDK names deep inside its connection error, such as "Connection refused".
_CAUSE = re.compile(r'message: "([^"]+)"')
# What the TLS failures it names mean for the operator.
_TLS_CAUSES = {
    "UnknownIssuer": "the server's certificate is not signed by TEMPORAL_TLS_SERVER_CA_CERT_PATH"
    " (or, unset, by an authority of the system)",
    "NotValidForName": "the server's certificate is not for this host name; set"
    " TEMPORAL_TLS_SERVER_NAME to the name it is for",
    "Expired": "the server's certificate has expired",
}
# How a client sees a server close the connection: the end of the stream, its first call
# cancelled, or a bare transport error, depending on timing. A server that wants a client
# certificate does so to a client without one (or with one it does not trust); a server that
# wants TLS, to a client without TLS.
_CLOSED = ("UnexpectedEof", "operation was canceled", "transport error")


def _reason(error: BaseException, tls: bool) -> str:
    text = str(error)
    for cause, meaning in _TLS_CAUSES.items():
        if f"InvalidCertificate({cause}" in text:
            return meaning
    causes = _CAUSE.findall(text)
    reason = causes[-1] if causes else " ".join(text.split()) or type(error).__name__
    if any(sign in text for sign in _CLOSED):
        hint = (
            "does it want a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH) signed by an"
            " authority it trusts?"
            if tls
            else "does it want TLS (TEMPORAL_TLS=true)?"
        )
        return f"the server closed the connection ({reason}); {hint}"
    return reason
