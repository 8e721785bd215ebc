"""The home page shows each role the panels the modules bring for it (core and café here), in
order, each from a bounded set of queries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from hub.models import Role
from tests.conftest import Hub

ORGANISATIONS = "Organisations the hub works with"
FIND = "Find an organisation"
ACCOUNTS = '<h2 id="acc-h">Accounts</h2>'
LATEST = "Latest changes"
CAFE = "You are signed in for the café."
NOT_LINKED = "Your account is not linked to an organisation yet."

ALL_PANELS = (ORGANISATIONS, FIND, ACCOUNTS, LATEST, CAFE, NOT_LINKED)


def panels_on(html: str) -> list[str]:
    """The panels present, in the order the page shows them."""
    found = [(html.index(marker), marker) for marker in ALL_PANELS if marker in html]
    return [marker for _, marker in sorted(found)]


def home_as(hub: Hub, role: Role, **kwargs: Any) -> str:
    hub.login_as(role, **kwargs)
    response = hub.client.get("/")
    assert response.status_code == 200
    return response.text


def test_admin_sees_organisations_accounts_and_latest_changes(hub: Hub) -> None:
    hub.make_org("Coastal Youth Trust")
    html = home_as(hub, Role.ADMIN)
    assert panels_on(html) == [ORGANISATIONS, ACCOUNTS, LATEST]
    assert "No accounts are locked." in html
    assert "Created Coastal Youth Trust (vcse)" in html


def test_receptionist_sees_organisations_then_finding_one_with_the_latest_added(hub: Hub) -> None:
    hub.make_org("Coastal Youth Trust")
    hub.make_org("Harbour Art Group")
    html = home_as(hub, Role.RECEPTIONIST)
    assert panels_on(html) == [ORGANISATIONS, FIND]
    assert re.search(r'class="big-number">2 <span>active</span>', html)
    recent = html[html.index("Recently added") :]
    assert recent.index("Harbour Art Group") < recent.index("Coastal Youth Trust")


def test_trustee_sees_only_the_organisations_figures(hub: Hub) -> None:
    assert panels_on(home_as(hub, Role.TRUSTEE)) == [ORGANISATIONS]


def test_tenant_sees_its_own_organisation(hub: Hub) -> None:
    org = hub.make_org("Coastal Youth Trust", postcode="FY7 6BE")
    html = home_as(hub, Role.TENANT, organisation_id=org)
    assert panels_on(html) == []
    assert '<h2 id="org-h">Coastal Youth Trust</h2>' in html
    assert f'href="/organisations/{org}"' in html


def test_cafe_staff_see_the_cafe_panel_the_cafe_module_brings(hub: Hub) -> None:
    assert panels_on(home_as(hub, Role.CAFE)) == [CAFE]
    assert panels_on(home_as(hub, Role.CAFE_SUPERVISOR)) == [CAFE]


@contextmanager
def counting_queries(hub: Hub) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = hub.client.app.state.engine.sync_engine

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_admin_home_page_queries_do_not_grow_with_the_data(hub: Hub) -> None:
    hub.make_org()
    hub.login_as(Role.ADMIN)
    with counting_queries(hub) as few:
        assert hub.client.get("/").status_code == 200
    for _ in range(12):
        hub.make_org()
        hub.make_user(Role.RECEPTIONIST)
    with counting_queries(hub) as many:
        assert hub.client.get("/").status_code == 200
    assert len(many) == len(few)
