"""Who may call the café's routes (DESIGN §6): café staff ring sales; a supervisor (and an admin)
also opens and closes sessions, refunds, voids and edits the menu; trustees read reports only."""

from __future__ import annotations

from hub.auth import roles
from hub.models import Role

TILL = roles(Role.CAFE, Role.CAFE_SUPERVISOR, Role.ADMIN)
SUPERVISOR = roles(Role.CAFE_SUPERVISOR, Role.ADMIN)
REPORTS = roles(Role.CAFE, Role.CAFE_SUPERVISOR, Role.ADMIN, Role.TRUSTEE)
TRADING = roles(Role.CAFE_SUPERVISOR, Role.ADMIN, Role.TRUSTEE)
