"""/admin/backups and /api/v1/backups: recent backups with their status, and Back up now."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

from hub.app import create_app
from hub.backup import service
from hub.config import Settings
from hub.models import Role
from tests.conftest import Hub, backend


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "backups"


@pytest.fixture
def backup_hub(settings: Settings, folder: Path) -> Iterator[Hub]:
    app = create_app(replace(settings, backup_dir=folder))
    with TestClient(app, base_url="http://testserver.local") as client:
        yield Hub(client)


def test_api_lists_backups_newest_first_with_checksum_status(
    backup_hub: Hub, settings: Settings, folder: Path
) -> None:
    older = service.make_backup(settings, folder, clock=lambda: datetime(2026, 7, 1, 1, 30, tzinfo=UTC))
    newer = service.make_backup(settings, folder, clock=lambda: datetime(2026, 7, 2, 1, 30, tzinfo=UTC))
    older.path.write_bytes(older.path.read_bytes() + b"tampered")
    headers = backup_hub.headers_for(Role.ADMIN)

    response = backup_hub.client.get("/api/v1/backups", headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["folder"] == str(folder)
    items = body["items"]
    assert [i["name"] for i in items] == [newer.path.name, older.path.name]
    assert items[0]["taken_at"] == "2026-07-02T01:30:00Z"
    assert items[0]["backend"] == backend()
    assert items[0]["revision"] == newer.revision
    assert items[0]["size_bytes"] == newer.size_bytes
    assert items[0]["sha256"] == newer.sha256
    assert (items[0]["checksum"], items[0]["checked"], items[0]["ok"]) == ("ok", "now", True)
    assert (items[1]["checksum"], items[1]["checked"], items[1]["ok"]) == ("mismatch", "now", False)


def test_page_shows_backups_in_the_building_time_zone(
    backup_hub: Hub, settings: Settings, folder: Path
) -> None:
    made = service.make_backup(settings, folder, clock=lambda: datetime(2026, 7, 1, 1, 30, tzinfo=UTC))
    backup_hub.login_as(Role.ADMIN)

    html = backup_hub.client.get("/admin/backups").text

    assert made.path.name in html
    assert "Wed 01 Jul 2026, 02:30:00" in html  # 01:30 UTC is 02:30 British Summer Time
    assert "matches (checked now)" in html
    assert "hubkeeper backup --keep 14" in html
    assert '<a href="/admin/backups"' in html  # in the admin's navigation
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    # Nothing the Content-Security-Policy would block: no inline script, style or handler.
    assert not re.search(r"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", main)
    # The button is a labelled control in a form that carries the CSRF token.
    assert re.search(r'<input type="hidden" name="_csrf" value="[^"]+"', main)
    assert (
        '<button type="submit" class="button primary" name="action" value="backup">Back up now</button>'
        in main
    )


def test_back_up_now_makes_a_backup_and_records_who_asked(backup_hub: Hub, folder: Path) -> None:
    admin = backup_hub.login_as(Role.ADMIN)
    token = backup_hub.csrf("/admin/backups")

    response = backup_hub.client.post(
        "/admin/backups", data={"_csrf": token, "action": "backup"}, follow_redirects=False
    )

    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin/backups"
    names = [p.name for p in folder.iterdir()]
    main = [n for n in names if re.fullmatch(r"hubkeeper-\d{8}T\d{6}Z-rev\w+\.(sqlite3|pgdump)", n)]
    assert len(main) == 1 and len(names) == 3
    entries = backup_hub.client.get(
        "/api/v1/audit?action=backup.created", headers=backup_hub.headers_for(Role.ADMIN)
    ).json()["items"]
    assert [(e["actor"], e["object_type"], e["object_id"]) for e in entries] == [
        (admin.email, "backup", main[0])
    ]
    html = backup_hub.client.get("/admin/backups").text
    assert f"Backup written: {main[0]} (" in html  # the flash message
    assert html.count(f"<td><code>{main[0]}</code></td>") == 1


def test_back_up_now_into_a_folder_that_cannot_be_made_says_so_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    app = create_app(replace(settings, backup_dir=blocked / "backups"))
    with TestClient(app, base_url="http://testserver.local") as client:
        hub = Hub(client)
        hub.login_as(Role.ADMIN)
        token = hub.csrf("/admin/backups")
        response = client.post(
            "/admin/backups", data={"_csrf": token, "action": "backup"}, follow_redirects=False
        )
        assert response.status_code == 503
        assert (
            f"No backup was made: The backup folder {blocked / 'backups'} cannot be made: Not a directory."
            in (response.text)
        )
        entries = client.get("/api/v1/audit?action=backup", headers=hub.headers_for(Role.ADMIN)).json()[
            "items"
        ]
        assert entries == []


def test_a_post_that_is_not_the_back_up_now_button_changes_nothing(backup_hub: Hub, folder: Path) -> None:
    backup_hub.login_as(Role.ADMIN)
    token = backup_hub.csrf("/admin/backups")
    response = backup_hub.client.post("/admin/backups", data={"_csrf": token, "action": "restore"})
    assert response.status_code == 422
    assert "Use the Back up now button to make a backup." in response.text
    api = backup_hub.client.post(
        "/admin/backups", json={"action": "backup"}, headers=backup_hub.headers_for(Role.ADMIN)
    )
    assert api.status_code == 422
    assert not folder.exists() or list(folder.iterdir()) == []
