"""Tenants booking rooms themselves (DESIGN §6 "book within its allowance"; issue 13 item 6).

A tenant may book, and quote, only for its own organisation, only a room marked
``tenant_bookable``, only inside opening hours, confirmed, and with none of the staff's overrides
(opening hours, rate band, buffers); the usual clash check applies. It may cancel its own
organisation's bookings (another's answers 404, never 403). Staff are not limited by any of this.
"""

from __future__ import annotations

from typing import Any

from hub.auth import Identity
from hub.errors import Forbidden, InvalidInput
from hub.models import Role
from rooms.models import Room

# Fields only staff may set, with what a tenant is told: any of them given (not left at its
# default) answers 403 naming it.
STAFF_ONLY_FIELDS = {
    "override_opening_hours": "only the hub's office can book outside opening hours",
    "override_reason": "only the hub's office can book outside opening hours",
    "band": "the rate band is the hub's office's to choose",
    "setup_minutes": "setup time is set by the hub's office",
    "cleardown_minutes": "cleardown time is set by the hub's office",
    "exclude_booking_id": "moving a booking is for the hub's office",
}


def is_tenant(actor: Identity) -> bool:
    return actor.role == Role.TENANT


def check_tenant_request(actor: Identity, data: Any, *, organisation_id: int | None) -> None:
    """Before anything is read: the organisation is the tenant's own (422 naming organisation_id,
    the answer for an organisation that does not exist), no staff-only field is set (403 naming
    it), and a booking is confirmed, not a hold (403 naming status)."""
    if not is_tenant(actor):
        return
    if organisation_id is None or organisation_id != actor.organisation_id:
        raise InvalidInput(f"no organisation has id {organisation_id}", field="organisation_id")
    for field, reason in STAFF_ONLY_FIELDS.items():
        value = getattr(data, field, None)
        if value is not None and value is not False and value != "":  # 0 minutes is given too
            raise Forbidden(reason, field=field)
    if getattr(data, "status", "confirmed") != "confirmed":
        raise Forbidden("a provisional hold is for the hub's office; book it confirmed", field="status")


def check_tenant_room(actor: Identity, room: Room) -> None:
    """A tenant books only rooms marked for tenants (403 naming room_id)."""
    if is_tenant(actor) and not room.tenant_bookable:
        raise Forbidden(
            f"{room.name} is not one of the rooms tenants book themselves; ask the hub's office",
            field="room_id",
        )
