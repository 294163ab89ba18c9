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


def _reason(error: BaseException) -> str:
    causes = _CAUSE.findall(str(error))
    return causes[-1] if causes else " ".join(str(error).split()) or type(error).__name__
