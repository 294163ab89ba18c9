"""Signing staff in with their organisation's OpenID provider (OpenID Connect).

The authorization code flow with PKCE (S256), a state and a nonce, through Authlib's client;
the ID token is checked against the provider's published keys (signature, issuer, audience,
expiry, nonce) by Authlib's ID token rules. The provider proves an email address; single
sign-on opens the one existing, active staff account with that address and creates nobody.

What a flow must remember between leaving for the provider and coming back (state, nonce,
PKCE verifier, the page to return to) is kept in a cookie sealed with a key derived from the
client secret (`seal`, `unseal`), not in the database: nothing to store or purge, any of
several API processes can finish a flow another started, and the values never leave the
browser that started it. The seal stops a forged or edited cookie; its time limit and its
removal when the browser comes back stop an old one; the provider refuses a code used twice.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from config.settings import OidcSettings, Settings
from db.actors import active_actors_by_email
from domain.access import may_sign_in_with_sso
from i18n import N_, gettext
from services.refusals import Kind, Refused, forbidden, unavailable
from services.signin import Started, local_path, start_session

log = logging.getLogger(__name__)

SCOPE = "openid email"
CALLBACK_PATH = "/sign-in/sso/callback"
# Long enough to type a password and answer a second factor; a flow older is started again.
PENDING_SECONDS = 600
# The provider's answers, each; a provider slower than this is taken as away.
HTTP_TIMEOUT_S = 10.0
# The provider's discovery document is read again after this long (its endpoints rarely move).
METADATA_SECONDS = 3600

NOT_VERIFIED = N_(
    "Your organisation's sign-in service has not confirmed that the address {email} is yours,"
    " so it cannot sign you in here. Ask your IT service to confirm it, or sign in with a link"
    " sent by email."
)
NO_ACCOUNT = N_(
    "No active account of this service has the address {email}. Single sign-on opens only an"
    " account that already exists: ask an administrator for one, or check that you signed in"
    " with your work address."
)
NOT_STAFF = N_(
    "Single sign-on is for secretariat and administrator accounts only. Sign in with a link"
    " sent by email instead."
)
SEVERAL_STAFF = N_(
    "Several staff accounts have the address {email}, so single sign-on cannot tell which one"
    " is yours. Sign in with a link sent by email instead."
)
START_AGAIN = N_(
    "This sign-in did not start on this browser, took longer than 10 minutes, or was already"
    " used. Start again from the sign-in page."
)
NOT_COMPLETED = N_(
    "Your organisation's sign-in service did not complete the sign-in, or its answer could not"
    " be checked. Start again from the sign-in page."
)
PROVIDER_AWAY = N_(
    "Your organisation's sign-in service cannot be reached at the moment. Try again in a few"
    " minutes, or sign in with a link sent by email."
)


@dataclass(frozen=True)
class Pending:
    """A flow that left for the provider: what its return is checked against."""

    state: str
    nonce: str
    verifier: str
    next_path: str | None
    started_at: float


def _key(oidc: OidcSettings) -> bytes:
    # A key of its own, derived from the secret the operator already keeps for this client.
    return hmac.new(oidc.client_secret.encode(), b"reviewflow sso pending", "sha256").digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def seal(oidc: OidcSettings, pending: Pending) -> str:
    body = _b64(json.dumps(asdict(pending), separators=(",", ":")).encode())
    return f"{body}.{_b64(hmac.new(_key(oidc), body.encode(), 'sha256').digest())}"


def unseal(oidc: OidcSettings, value: str | None, now: float | None = None) -> Pending | None:
    """The flow sealed in `value` if the seal is this service's and the flow is recent."""
    body, _, mac = (value or "").partition(".")
    expected = _b64(hmac.new(_key(oidc), body.encode(), "sha256").digest())
    if not body or not hmac.compare_digest(mac.encode(), expected.encode()):
        return None
    try:
        pending = Pending(**json.loads(_unb64(body)))
    except (ValueError, TypeError):
        return None
    age = (time.time() if now is None else now) - pending.started_at
    return pending if 0 <= age <= PENDING_SECONDS else None


def redirect_uri(settings: Settings) -> str:
    """The address the provider sends the browser back to: registered with the provider."""
    return f"{settings.api_url}{CALLBACK_PATH}"


def _client(settings: Settings, oidc: OidcSettings) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=oidc.client_id,
        client_secret=oidc.client_secret,
        scope=SCOPE,
        redirect_uri=redirect_uri(settings),
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT_S,
    )


_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
REQUIRED_METADATA = ("authorization_endpoint", "token_endpoint", "jwks_uri")


async def _provider(client: AsyncOAuth2Client, oidc: OidcSettings) -> dict[str, Any]:
    """The provider's discovery document, read at most once an hour by each process."""
    cached = _metadata.get(oidc.issuer)
    if cached is not None and time.monotonic() - cached[0] < METADATA_SECONDS:
        return cached[1]
    discovery = f"{oidc.issuer.rstrip('/')}/.well-known/openid-configuration"
    answer = await client.request("GET", discovery, withhold_token=True)
    answer.raise_for_status()
    found = answer.json()
    metadata: dict[str, Any] = found if isinstance(found, dict) else {}
    missing = [name for name in REQUIRED_METADATA if not metadata.get(name)]
    # The discovery document must name the issuer configured (OpenID Connect Discovery 4.3).
    if metadata.get("issuer") != oidc.issuer or missing:
        log.error(
            "the OpenID provider at %s names the issuer %r (expected %r) and lacks %s",
            oidc.issuer,
            metadata.get("issuer"),
            oidc.issuer,
            ", ".join(missing) or "nothing",
        )
        raise unavailable(gettext(PROVIDER_AWAY), retry_after_s=60)
    _metadata[oidc.issuer] = (time.monotonic(), metadata)
    return metadata


def _oidc(settings: Settings) -> OidcSettings:
    if settings.oidc is None:
        raise Refused(Kind.NOT_FOUND, gettext(START_AGAIN))
    return settings.oidc


async def begin(settings: Settings, next_path: str | None) -> tuple[str, Pending]:
    """Where to send the browser to sign in at the provider, and the flow to seal in its
    cookie until it comes back."""
    oidc = _oidc(settings)
    pending = Pending(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(64),
        next_path=local_path(next_path),
        started_at=time.time(),
    )
    try:
        async with _client(settings, oidc) as client:
            metadata = await _provider(client, oidc)
    except (httpx2.HTTPError, ValueError) as error:
        log.warning("the OpenID provider at %s cannot be reached: %s", oidc.issuer, error)
        raise unavailable(gettext(PROVIDER_AWAY), retry_after_s=60) from None
    url, _ = client.create_authorization_url(
        metadata["authorization_endpoint"],
        state=pending.state,
        code_verifier=pending.verifier,
        nonce=pending.nonce,
    )
    return url, pending


async def finish(
    pool: asyncpg.Pool, settings: Settings, pending: Pending | None, answer: Mapping[str, str]
) -> Started:
    """Check the provider's `answer` (the callback's query) against the flow `pending` (None:
    no flow of this browser's, or an old one) and start a session for the staff account of
    the address the provider vouches for."""
    oidc = _oidc(settings)
    if pending is None or not hmac.compare_digest(
        answer.get("state", "").encode(), pending.state.encode()
    ):
        raise _refused_flow(START_AGAIN, "state unknown, expired or not this browser's")
    if "error" in answer or not answer.get("code"):
        raise _refused_flow(NOT_COMPLETED, f"answered {answer.get('error', 'without a code')}")
    # A provider that names itself (RFC 9207) must be ours: another one's code is not sent on.
    if answer.get("iss", oidc.issuer) != oidc.issuer:
        raise _refused_flow(NOT_COMPLETED, f"answer from another issuer, {answer['iss']!r}")
    claims = await _verified_claims(settings, oidc, pending, answer["code"])
    actor_id = await _staff_account(pool, claims)
    started = await start_session(pool, settings, actor_id, pending.next_path)
    log.info("account %s signed in with single sign-on", actor_id)
    return started


def _refused_flow(message: str, reason: str) -> Refused:
    """The flow refused with `message`; `reason`, for the operator, logged."""
    log.info("single sign-on refused: %s", reason)
    return Refused(Kind.INVALID, gettext(message))


async def _verified_claims(
    settings: Settings, oidc: OidcSettings, pending: Pending, code: str
) -> dict[str, Any]:
    """The ID token's claims, checked, with the address the provider vouches for: from the ID
    token, or from the user info endpoint when the provider keeps it there."""
    try:
        async with _client(settings, oidc) as client:
            metadata = await _provider(client, oidc)
            token = await client.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=pending.verifier
            )
            claims = await _id_token_claims(client, metadata, oidc, pending, token)
            if "email" not in claims and metadata.get("userinfo_endpoint"):
                claims |= await _user_info(client, metadata["userinfo_endpoint"], claims["sub"])
    except (OAuthError, JoseError) as error:
        raise _refused_flow(
            NOT_COMPLETED, f"the provider's answer failed a check: {error}"
        ) from None
    except (httpx2.HTTPError, ValueError) as error:
        log.warning("the OpenID provider at %s cannot be reached: %s", oidc.issuer, error)
        raise unavailable(gettext(PROVIDER_AWAY), retry_after_s=60) from None
    return claims


async def _id_token_claims(
    client: AsyncOAuth2Client,
    metadata: Mapping[str, Any],
    oidc: OidcSettings,
    pending: Pending,
    token: Mapping[str, Any],
) -> dict[str, Any]:
    if "id_token" not in token:
        raise JoseError("no ID token in the token endpoint's answer")
    # Read at each sign-in (staff sign in a few times a day), so a rotated key is known at once.
    keys = await client.request("GET", metadata["jwks_uri"], withhold_token=True)
    keys.raise_for_status()
    algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    decoded = jwt.decode(
        token["id_token"],
        KeySet.import_key_set(keys.json()),
        registry=JWSRegistry(algorithms=[a for a in algorithms if a != "none"]),
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {
            "iss": {"essential": True, "value": oidc.issuer},
            "aud": {"essential": True, "value": oidc.client_id},
            "exp": {"essential": True},
        },
        {
            "nonce": pending.nonce,
            "client_id": oidc.client_id,
            "access_token": token.get("access_token"),
        },
    )
    claims.validate(leeway=60)
    return dict(claims)


async def _user_info(client: AsyncOAuth2Client, endpoint: str, subject: str) -> dict[str, Any]:
    answer = await client.get(endpoint)
    answer.raise_for_status()
    info = answer.json()
    # Only the ID token's person's information counts (OpenID Connect Core 5.3.2).
    if info.get("sub") != subject:
        raise JoseError("the user info is of another subject than the ID token")
    return {name: info[name] for name in ("email", "email_verified") if name in info}


async def _staff_account(pool: asyncpg.Pool, claims: Mapping[str, Any]) -> uuid.UUID:
    """The one active account with the address the provider vouches for, if it is staff."""
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise _refused_flow(NOT_COMPLETED, "no email address in the provider's answer")
    # Some providers write the flag as a string.
    if claims.get("email_verified") not in (True, "true"):
        log.info("single sign-on refused: address not verified by the provider")
        raise forbidden(gettext(NOT_VERIFIED).format(email=email))
    accounts = await active_actors_by_email(pool, email)
    staff = [actor for actor in accounts if may_sign_in_with_sso(actor)]
    if len(staff) == 1:
        return staff[0].id
    log.info("single sign-on refused: %d accounts, %d of staff", len(accounts), len(staff))
    if staff:
        raise forbidden(gettext(SEVERAL_STAFF).format(email=email))
    raise forbidden(gettext(NOT_STAFF) if accounts else gettext(NO_ACCOUNT).format(email=email))
