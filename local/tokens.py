"""Local sign-in: bearer tokens shaped like a Cognito ID token, signed by a key only this machine has.

`run_local.py token --user alice --groups staff` prints one; the local server accepts it wherever the
stack would ask API Gateway or AppSync for a Cognito (or OIDC) token. The RSA key is generated on first
use under `.local/auth/` (git-ignored; `LOCAL_AUTH_DIR` moves it). Local only: the deployed API trusts
your user pool, never this key, and the local server trusts nothing else (it has no network to fetch a
pool's keys). PyJWT signs and checks (RS256, like Cognito); we only choose the claims.
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ISSUER = "https://local.lambdakit/user-pool"  # never a real issuer: a local token is refused anywhere else
AUDIENCE = "local-client"
_KEY_FILE = "token-key.pem"


class InvalidToken(Exception):
    """A bearer token the local server must refuse (401): missing, malformed, forged or expired."""


def auth_dir() -> Path:
    """Where the local key lives (`.local/auth/`, or LOCAL_AUTH_DIR)."""
    return Path(os.environ.get("LOCAL_AUTH_DIR") or ROOT / ".local" / "auth")


def _private_key() -> Any:
    """The local signing key, created once (atomically: several workers may start together)."""
    return _load_key(auth_dir() / _KEY_FILE)


@functools.lru_cache(maxsize=4)
def _load_key(path: Path) -> Any:
    """Read (or first create) the key at `path`, once per process: parsing it costs milliseconds."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(pem)
        os.chmod(handle.name, 0o600)
        try:
            os.link(handle.name, path)  # fails if another process made it first: theirs wins
        except FileExistsError:
            pass
        finally:
            os.unlink(handle.name)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def ensure_key() -> None:
    """Load (or create) the key and the JWT library now, so a worker's first request is not the slow one."""
    import jwt  # noqa: F401 - imported for its cost, before the first request

    _private_key()


# Cognito's longest token life: an ID or access token is valid for 5 minutes to 1 day (the app client's setting).
MAX_TOKEN_SECONDS = 86_400
_TIMES = ("exp", "iat", "auth_time")


def claims_for(
    user: str, groups: tuple[str, ...] = (), scopes: tuple[str, ...] = (), *, ttl: int = 3600, now: float | None = None
) -> dict[str, Any]:
    """The claims Cognito puts in a token for `user`: an ID token, or an access token when scopes are asked for.

    API Gateway's Cognito authorizer takes an ID token on a method without scopes and an access token (which
    carries `scope`, and `client_id` instead of `aud`) on one with them.
    """
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ISSUER}/{user}")),  # stable per user, like Cognito's
        "iss": ISSUER,
        "auth_time": issued,
        "iat": issued,
        "exp": issued + ttl,
        "jti": str(uuid.uuid4()),
    }
    if scopes:
        claims.update({"token_use": "access", "client_id": AUDIENCE, "username": user, "scope": " ".join(scopes)})
    else:
        claims.update({"token_use": "id", "aud": AUDIENCE, "cognito:username": user})
    if groups:
        claims["cognito:groups"] = list(groups)  # Cognito leaves the claim out for a user in no group
    return claims


def issue_token(
    user: str, groups: tuple[str, ...] = (), scopes: tuple[str, ...] = (), *, ttl: int = 3600, now: float | None = None
) -> str:
    """A signed bearer token the local server accepts until it expires (`ttl` seconds, at most one day)."""
    if not 0 < ttl <= MAX_TOKEN_SECONDS:
        raise ValueError(f"a token lives 1 to {MAX_TOKEN_SECONDS} s (Cognito's longest is one day), not {ttl}")
    return sign_claims(claims_for(user, groups, scopes, ttl=ttl, now=now))


def sign_claims(claims: dict[str, Any]) -> str:
    """`claims` as a token signed by the local key (RS256, as Cognito signs)."""
    import jwt

    return jwt.encode(claims, _private_key(), algorithm="RS256")


def verify_token(token: str, uses: tuple[str, ...] = ("id", "access")) -> dict[str, Any]:
    """The claims of a token this machine signed, as Cognito issues them; InvalidToken otherwise.

    `uses` are the kinds the caller takes (`token_use`): a REST API's Cognito authorizer takes only ID
    tokens on a method without scopes and only access tokens on one with scopes; an HTTP API's JWT
    authorizer and AppSync take either. Times are whole seconds (a JSON integer, as Cognito writes them),
    and a token lives at most a day.
    """
    import jwt

    try:
        claims = jwt.decode(
            token,
            _private_key().public_key(),
            algorithms=["RS256"],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss", "token_use"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("token expired") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid token ({type(exc).__name__})") from None
    use = claims["token_use"]
    if use not in uses:
        raise InvalidToken(f"token_use {use!r} where {' or '.join(uses)} is taken")
    # An ID token names its app client in `aud`, an access token in `client_id`.
    if claims.get("aud" if use == "id" else "client_id") != AUDIENCE:
        raise InvalidToken("issued for another client")
    if any(name in claims and type(claims[name]) is not int for name in _TIMES):
        raise InvalidToken("exp, iat and auth_time must be whole seconds")
    if not 0 < claims["exp"] - claims["iat"] <= MAX_TOKEN_SECONDS:
        raise InvalidToken(f"a token lives at most {MAX_TOKEN_SECONDS} s")
    return claims
