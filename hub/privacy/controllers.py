"""/api/v1/privacy: subject access (export) and erasure requests, for admins only."""

from __future__ import annotations

import json
from typing import Any

from litestar import Response, post
from litestar.params import JSONBody

from hub.auth import ADMIN_ONLY, roles
from hub.config import Settings
from hub.deps import Caller, Db, RegistryDep, SettingsDep
from hub.privacy import services
from hub.privacy.schemas import ErasureOut, ErasureRequest, KeptOut, PersonalDataRequest

ADMIN = roles(ADMIN_ONLY)


def export_file(settings: Settings, data: dict[str, Any]) -> Response[bytes]:
    """The export as a JSON file to save (its name carries the day, never the person)."""
    name = f"personal-data-{settings.today().isoformat()}.json"
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode("utf-8")
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def erasure_out(result: services.Erasure) -> ErasureOut:
    return ErasureOut(
        pseudonym=result.pseudonym,
        erased_at=result.erased_at,
        counts=result.counts,
        kept=[KeptOut(what=k.what, fields=list(k.fields), why=k.why, count=k.count) for k in result.kept],
        audit_entry_id=result.audit_entry_id,
    )


@post(
    "/api/v1/privacy/export",
    opt=ADMIN,
    status_code=200,
    tags=["data protection"],
    summary="Export everything held about a person (a JSON file)",
)
async def export_personal_data(
    db: Db,
    settings: SettingsDep,
    registry: RegistryDep,
    identity: Caller,
    data: JSONBody[PersonalDataRequest],
) -> Response[dict[str, Any]]:
    exported = await services.export_request(db, settings, registry, identity, data.email)
    # A JSON object (documented as one), saved as a file by whoever asks with a browser.
    name = f"personal-data-{settings.today().isoformat()}.json"
    return Response(
        json.loads(json.dumps(exported, ensure_ascii=False, default=str)),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@post(
    "/api/v1/privacy/erase",
    opt=ADMIN,
    status_code=200,
    tags=["data protection"],
    summary="Erase a person: their personal data replaced by a pseudonym (financial records kept)",
)
async def erase_person(
    db: Db, settings: SettingsDep, registry: RegistryDep, identity: Caller, data: JSONBody[ErasureRequest]
) -> ErasureOut:
    result = await services.erase(
        db, settings, registry, identity, data.email, reason=data.reason, confirm=data.confirm
    )
    return erasure_out(result)


API_ROUTES = [export_personal_data, erase_person]
