"""Password hashing and secret tokens.

Secrets handed to people (session cookies, API tokens, feed tokens) are random; the database
keeps only a keyed hash of them, so a copy of the database does not let anyone sign in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10
API_TOKEN_PREFIX = "hk_"  # noqa: S105 - a visible prefix, not a secret


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Verifying against this when the email is unknown keeps the timing of a failed login the same.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))


def burn_verify_time(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def keyed_hash(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
