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
            f"Temporal at {config['target_host']} cannot be reached: {_reason(error)}"
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
# A server that wants a client certificate closes the connection of a client without one (or
# with one it does not trust) after the handshake.
_CLOSED = "UnexpectedEof"


def _reason(error: BaseException) -> str:
    text = str(error)
    for cause, meaning in _TLS_CAUSES.items():
        if f"InvalidCertificate({cause}" in text:
            return meaning
    if _CLOSED in text:
        return (
            "the server closed the connection (does it want a client certificate,"
            " TEMPORAL_TLS_CLIENT_CERT_PATH, signed by an authority it trusts?)"
        )
    causes = _CAUSE.findall(text)
    if causes:
        return causes[-1]
    return " ".join(text.split()) or type(error).__name__
