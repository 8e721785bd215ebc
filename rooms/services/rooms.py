"""Rooms and combined rooms. Which indivisible rooms ("atoms") a booking of a room occupies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from msgspec import UNSET
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth import Identity
from hub.db import is_valid_id, utcnow
from hub.errors import Conflict, InvalidInput, NotFound, RuleViolation
from hub.services import audit
from hub.text import name_key
from rooms.models import FEATURES, Room, RoomPart
from rooms.schemas import RoomCreate, RoomOut, RoomUpdate


class RoomMap:
    """All rooms and how they combine, loaded in two queries."""

    def __init__(self, rooms: list[Room], parts: Sequence[tuple[int, int]]) -> None:
        self.rooms = {room.id: room for room in rooms}
        self.parts: dict[int, list[int]] = defaultdict(list)
        self.wholes: dict[int, list[int]] = defaultdict(list)
        for whole, part in parts:
            self.parts[whole].append(part)
            self.wholes[part].append(whole)

    @classmethod
    async def load(cls, db: AsyncSession) -> RoomMap:
        rooms = list(await db.scalars(select(Room).order_by(Room.display_order, Room.name_key)))
        parts = [
            (whole, part) for whole, part in await db.execute(select(RoomPart.whole_id, RoomPart.part_id))
        ]
        return cls(rooms, parts)

    def atoms(self, room_id: int) -> set[int]:
        """The indivisible rooms a booking of this room holds (a room with no parts is its own)."""
        seen: set[int] = set()
        stack = [room_id]
        atoms: set[int] = set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            children = self.parts.get(current, [])
            if children:
                stack.extend(children)
            else:
                atoms.add(current)
        return atoms

    def overlapping_rooms(self, room_id: int) -> set[int]:
        """Every room whose booking would compete with this one's (itself, its parts, its wholes)."""
        mine = self.atoms(room_id)
        return {other for other in self.rooms if self.atoms(other) & mine}

    def out(self, room: Room) -> RoomOut:
        return RoomOut(
            id=room.id,
            name=room.name,
            location=room.location,
            capacity=room.capacity,
            features=list(room.features),
            bookable=room.bookable,
            setup_minutes=room.setup_minutes,
            cleardown_minutes=room.cleardown_minutes,
            description=room.description,
            parts=sorted(self.parts.get(room.id, [])),
            part_of=sorted(self.wholes.get(room.id, [])),
            active=room.active,
            tenant_bookable=room.tenant_bookable,
        )


async def get_room(db: AsyncSession, room_id: int, *, field: str | None = None) -> Room:
    room = await db.get(Room, room_id) if is_valid_id(room_id) else None
    if room is None:
        if field:
            raise InvalidInput(f"no room has id {room_id}", field=field)
        raise NotFound("That room was not found.")
    return room


def _check_features(features: list[str]) -> list[str]:
    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise InvalidInput(
            f"unknown feature(s): {', '.join(unknown)}; known: {', '.join(FEATURES)}", field="features"
        )
    return sorted(set(features))


async def _check_parts(db: AsyncSession, room_id: int | None, parts: list[int]) -> list[int]:
    room_map = await RoomMap.load(db)
    for part in parts:
        if part not in room_map.rooms:
            raise InvalidInput(f"no room has id {part}", field="parts")
        if room_id is not None and (part == room_id or room_id in room_map.atoms(part) | {part}):
            raise RuleViolation("a room cannot be made of itself", field="parts")
        if room_id is not None and room_id in _ancestors(room_map, part):
            raise RuleViolation("that would make the rooms contain each other", field="parts")
    return sorted(set(parts))


def _ancestors(room_map: RoomMap, room_id: int) -> set[int]:
    found: set[int] = set()
    stack = list(room_map.wholes.get(room_id, []))
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(room_map.wholes.get(current, []))
    return found


async def _name_free(db: AsyncSession, name: str, except_id: int | None = None) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("must not be blank", field="name")
    query = select(Room.id).where(Room.name_key == name_key(cleaned))
    if except_id is not None:
        query = query.where(Room.id != except_id)
    if await db.scalar(query) is not None:
        raise Conflict("a room with this name already exists", field="name")
    return cleaned


async def create_room(db: AsyncSession, actor: Identity, data: RoomCreate) -> Room:
    name = await _name_free(db, data.name)
    parts = await _check_parts(db, None, data.parts)
    room = Room(
        name=name,
        name_key=name_key(name),
        location=data.location.strip(),
        capacity=data.capacity,
        features=_check_features(data.features),
        bookable=data.bookable,
        tenant_bookable=data.tenant_bookable,
        setup_minutes=data.setup_minutes,
        cleardown_minutes=data.cleardown_minutes,
        description=data.description,
        display_order=data.display_order,
        active=True,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    db.add(room)
    await db.flush()
    for part in parts:
        db.add(RoomPart(whole_id=room.id, part_id=part))
    audit.record(
        db,
        actor,
        "room.created",
        "room",
        room.id,
        summary=f"Created room {name}",
        changes={"name": [None, name], "capacity": [None, data.capacity], "parts": [None, parts]},
    )
    await db.commit()
    return room


async def update_room(db: AsyncSession, actor: Identity, room_id: int, data: RoomUpdate) -> Room:
    room = await get_room(db, room_id)
    room_map = await RoomMap.load(db)
    before: dict[str, Any] = {
        "name": room.name,
        "capacity": room.capacity,
        "location": room.location,
        "features": room.features,
        "bookable": room.bookable,
        "tenant_bookable": room.tenant_bookable,
        "setup_minutes": room.setup_minutes,
        "cleardown_minutes": room.cleardown_minutes,
        "description": room.description,
        "parts": sorted(room_map.parts.get(room.id, [])),
        "display_order": room.display_order,
    }
    if data.name is not UNSET:
        room.name = await _name_free(db, data.name, except_id=room.id)
        room.name_key = name_key(room.name)
    for field in (
        "capacity",
        "bookable",
        "tenant_bookable",
        "setup_minutes",
        "cleardown_minutes",
        "description",
        "display_order",
    ):
        value = getattr(data, field)
        if value is not UNSET:
            setattr(room, field, value)
    if data.location is not UNSET:
        room.location = data.location.strip()
    if data.features is not UNSET:
        room.features = _check_features(data.features)
    parts = before["parts"]
    if data.parts is not UNSET:
        parts = await _check_parts(db, room.id, data.parts)
        await db.execute(delete(RoomPart).where(RoomPart.whole_id == room.id))
        for part in parts:
            db.add(RoomPart(whole_id=room.id, part_id=part))
    after = {**{k: getattr(room, k) for k in before if k != "parts"}, "parts": parts}
    changes = audit.diff(before, after)
    if changes:
        room.updated_at = utcnow()
        audit.record(
            db, actor, "room.updated", "room", room.id, summary=f"Updated room {room.name}", changes=changes
        )
    await db.commit()
    return room
