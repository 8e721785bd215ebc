"""Who may call the backup routes, written from issue 18 and DESIGN §6 (never read from the routes).

Merged into ``tests/hub/test_permissions.py``'s table; ``PATH_VALUES`` gives the walk a value for
each path parameter these routes use (an id that does not exist is fine: a 404 is "let in")."""

from __future__ import annotations

from tests.hub.access_rules import Rule

ACCESS: dict[str, Rule] = {}

PATH_VALUES: dict[str, str] = {}
