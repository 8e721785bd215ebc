"""The vocabulary of the permission table: role names (written out here rather than imported, so a
new role must be given its place) and :class:`Rule`. Shared by ``tests/hub/test_permissions.py``
and each module's ``tests/<module>/access.py``."""

from __future__ import annotations

from dataclasses import dataclass

# -- the roles, named here rather than imported, so a new role must be given its place ----------
ANONYMOUS = "anonymous"
ADMIN = "admin"
RECEPTIONIST = "receptionist"
TRUSTEE = "trustee"
TENANT = "tenant"
CAFE = "cafe"
CAFE_SUPERVISOR = "cafe_supervisor"
SIGNED_IN = frozenset({ADMIN, RECEPTIONIST, TRUSTEE, TENANT, CAFE, CAFE_SUPERVISOR})
EVERYONE = SIGNED_IN | {ANONYMOUS}
STAFF = frozenset({ADMIN, RECEPTIONIST})


@dataclass(frozen=True)
class Rule:
    """Routes ("METHOD /path", path parameters without their types) and the callers let in."""

    who: frozenset[str]
    routes: tuple[str, ...]


def rule(who: frozenset[str] | set[str], *routes: str) -> Rule:
    return Rule(frozenset(who), routes)
