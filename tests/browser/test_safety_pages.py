"""Running a hub safely (issue 18) in a real browser, as the demo hub's admin: "Back up now" makes a
backup that the Backups page lists as OK; a "forgot password" request waits in the Mail outbox
(no HUB_SMTP_URL) without its link showing; the "forgot password" form answers a known and an
unknown address alike; Data protection finds a person, downloads their export as JSON and, last,
erases one and says what changed. axe on every page; screenshots under ``safety/``."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import accessibility_violations, screenshot, sign_in
from tests.conftest import backend

pytestmark = pytest.mark.browser

ADMIN = ("admin@hub.test", "admin-demo-pass")
# A demo contact who is no user: a contact on an organisation whose billing email is theirs too.
CONTACT = ("jo.marsh@example.test", "Jo Marsh", "Jo Marsh — Chair-Based Exercise")
# A demo account no other test here signs in with (and not the only admin): erased last.
ERASED = ("cafe.supervisor@hub.test", "supervisor-demo-pass")
LONDON = ZoneInfo("Europe/London")  # the demo hub's time zone
BACKUP_NAME = re.compile(r"hubkeeper-\d{8}T\d{6}Z-rev\w+\.(sqlite3|pgdump)")


def _check(page: Any, name: str) -> None:
    """Every page: no WCAG 2.1 AA violations, no sideways scroll, a screenshot."""
    assert accessibility_violations(page) == [], name
    assert page.evaluate("document.documentElement.scrollWidth") <= page.evaluate("window.innerWidth"), name
    screenshot(page, f"safety/{name}")


def _table(page: Any, selector: str) -> dict[str, str]:
    """A two-column table (kind of record, how many) as a dict."""
    return {
        row.locator("td").first.inner_text(): row.locator("td").last.inner_text()
        for row in page.locator(f"{selector} tbody tr").all()
    }


def _open_from_menu(page: Any, label: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
    page.wait_for_load_state()


def _ask_for_a_reset_link(page: Any, base: str, email: str) -> tuple[int, str]:
    """The "forgot password" form, reached as a person would (from the sign-in page): the answer's
    HTTP status and text."""
    page.goto(f"{base}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url(f"{base}/password/forgot")
    page.get_by_label("Email address").fill(email)
    with page.expect_navigation() as answered:
        page.get_by_role("button", name="Email me a link").click()
    return int(answered.value.status), str(page.locator("main").inner_text())


def test_back_up_now_makes_a_backup_listed_as_ok(page: Any, live_server: str, server_folder: Path) -> None:
    sign_in(page, live_server, *ADMIN)
    _open_from_menu(page, "Backups")
    assert page.get_by_role("heading", level=1).inner_text() == "Backups"
    rows = page.locator("table tbody tr")
    assert rows.all_inner_texts() == ["No backups yet."]
    _check(page, "1-backups-none")

    # By keyboard: Tab to the button, then Enter.
    page.locator("#main").focus()
    for _ in range(20):
        if page.evaluate("document.activeElement.textContent.trim()") == "Back up now":
            break
        page.keyboard.press("Tab")
    else:
        raise AssertionError("never reached Back up now with Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    flash = page.locator(".flash").inner_text()
    written = re.fullmatch(rf"Backup written: ({BACKUP_NAME.pattern}) \(.+\)\.", flash)
    assert written, flash
    name = written.group(1)
    assert name.endswith(".pgdump" if backend() == "postgresql" else ".sqlite3")

    assert rows.count() == 1
    cells = rows.first.locator("td").all_inner_texts()
    assert cells[0] == name
    # Taken when its name says (UTC), shown in the hub's time.
    taken = datetime.strptime(name.split("-")[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert cells[1] == f"{taken.astimezone(LONDON):%a %d %b %Y, %H:%M:%S}"
    assert cells[5] == "matches (checked now)"
    assert cells[6] == "OK"
    _check(page, "2-backups-after-back-up-now")

    # The backup is on the server's disk, where the page says, whole: its checksum file agrees.
    folder = server_folder / "backups"
    assert str(folder) in page.locator("main p code").first.inner_text()
    backup = folder / name
    recorded = (folder / f"{name}.sha256").read_text().split()[0]
    assert hashlib.sha256(backup.read_bytes()).hexdigest() == recorded


def test_a_password_reset_waits_in_the_mail_outbox_without_its_link(page: Any, live_server: str) -> None:
    status, answer = _ask_for_a_reset_link(page, live_server, "reception@hub.test")
    assert status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "Check your email"
    assert "If that address belongs to an account here" in answer

    sign_in(page, live_server, *ADMIN)
    hub_name = page.locator(".brand").inner_text()
    _open_from_menu(page, "Mail")
    assert page.get_by_role("heading", level=1).inner_text() == "Mail"
    assert page.get_by_text("No mail server is set (HUB_SMTP_URL): messages wait here.").is_visible()
    row = page.locator("table tbody tr", has_text="reception@hub.test")
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == "Waiting"
    assert cells[2].splitlines() == ["Rob Kettle (reception)", "reception@hub.test"]
    assert cells[3] == f"Reset your password for {hub_name}"
    assert cells[4] == "password_reset"
    assert cells[5] == "0"
    _check(page, "3-mail-outbox")

    row.get_by_role("link", name=cells[3]).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == cells[3]
    # The message holds a link that only its recipient may use: an admin never sees it.
    main = page.locator("main").inner_text()
    assert "/password/reset/" not in main
    assert "Not shown" in page.locator("main pre").inner_text()
    _check(page, "4-mail-message")


def test_forgot_password_answers_a_known_and_an_unknown_address_alike(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/password/forgot")
    email = page.get_by_label("Email address")
    assert email.get_attribute("type") == "email"
    assert email.get_attribute("autocomplete") == "username"
    _check(page, "5-forgot-password")

    known = _ask_for_a_reset_link(page, live_server, "trustee@hub.test")
    known_url = page.url
    _check(page, "6-forgot-password-answer")
    unknown = _ask_for_a_reset_link(page, live_server, "nobody-here@hub.test")
    assert page.url == known_url
    assert unknown == known
    assert "nobody-here" not in unknown[1]

    # Behind the same answer, only the account's address was sent anything.
    sign_in(page, live_server, *ADMIN)
    page.goto(f"{live_server}/admin/mail")
    outbox = page.locator("main").inner_text()
    assert "trustee@hub.test" in outbox
    assert "nobody-here@hub.test" not in outbox


def test_data_protection_finds_a_person_and_downloads_their_export(page: Any, live_server: str) -> None:
    email, name, organisation = CONTACT
    sign_in(page, live_server, *ADMIN)
    _open_from_menu(page, "Data protection")
    assert page.get_by_role("heading", level=1).inner_text() == "Data protection"
    _check(page, "7-privacy")

    page.get_by_label("Email address").fill(email.upper())  # upper or lower case does not matter
    with page.expect_navigation():
        page.get_by_role("button", name="Find what is held").click()
    assert page.get_by_role("heading", name=f"What is held about {email}").is_visible()
    held = _table(page, "#held")
    assert held["Contact on organisations"] == "1"
    assert held["Billing email of organisations"] == "1"
    assert "User account" not in held
    _check(page, "8-privacy-held")

    with page.expect_download() as downloading:
        page.get_by_role("button", name="Download export (JSON)").click()
    download = downloading.value
    today = datetime.now(LONDON).date()
    assert download.suggested_filename == f"personal-data-{today.isoformat()}.json"
    exported = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert exported["request"]["email"] == email
    assert exported["account"] is None
    assert [(c["name"], c["email"], c["organisation"]) for c in exported["contacts"]] == [
        (name, email, organisation)
    ]
    assert [o["organisation"] for o in exported["billing_email_of"]] == [organisation]
    # Downloading changed nothing on the page.
    assert page.get_by_role("heading", name=f"What is held about {email}").is_visible()


def test_data_protection_erases_a_person_and_says_what_changed(
    browser: Any, page: Any, live_server: str
) -> None:
    """Last in the module: the erased account is gone for good."""
    email, password = ERASED
    sign_in(page, live_server, *ADMIN)
    page.goto(f"{live_server}/admin/privacy")
    page.get_by_label("Email address").fill(email)
    with page.expect_navigation():
        page.get_by_role("button", name="Find what is held").click()
    held = _table(page, "#held")
    assert held["User account"] == "1"
    # The demo's supervisor opened and closed the café's till: those records are theirs too.
    till = {kind: count for kind, count in held.items() if kind.startswith("Café: till sessions")}
    assert sorted(till) == ["Café: till sessions closed", "Café: till sessions opened"]

    # No reason given: refused, the reason shown beside the field, nothing erased.
    page.get_by_label("Type the email address again to confirm").fill(email)
    with page.expect_navigation():
        page.get_by_role("button", name="Erase").click()
    assert page.get_by_role("alert").is_visible()
    assert page.locator("#reason-error").is_visible()
    assert page.get_by_role("textbox", name="Why", exact=True).get_attribute("aria-invalid") == "true"
    assert page.get_by_role("heading", name="Person erased").count() == 0
    _check(page, "9-privacy-erase-refused")

    page.get_by_role("textbox", name="Why", exact=True).fill("Erasure requested by email on 3 December 2026")
    page.get_by_label("Type the email address again to confirm").fill(email)
    with page.expect_navigation():
        page.get_by_role("button", name="Erase").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Person erased"
    status = page.get_by_role("status").inner_text()
    erased = re.fullmatch(
        r"They are now (Erased person \w+) \(\w{3} (\d\d \w{3} \d{4}), (\d\d:\d\d)\)\. The audit log records"
        r" who did it, when and why \(entry \d+\)\.",
        status,
    )
    assert erased, status
    pseudonym, day, minute = erased.groups()
    changed = _table(page, "#changed")
    assert changed["User account (pseudonymised and closed)"] == "1"
    # Every till session found is relabelled with the pseudonym: as many as the page said were held.
    assert {kind: changed[kind] for kind in till} == till
    kept = page.locator("#kept li strong").all_inner_texts()
    assert kept == [
        "Issued invoices and credit notes (none name them)",
        "Payments, allocations and the ledger",
        "The audit log's rows",
    ]
    _check(page, "10-privacy-erased")

    # Asking again finds nothing, and says when and as whom they were erased.
    page.get_by_role("link", name="Another request").click()
    page.get_by_label("Email address").fill(email)
    with page.expect_navigation():
        page.get_by_role("button", name="Find what is held").click()
    reported = page.locator("#email-error").inner_text()
    assert reported.endswith(f"nothing is held about {email}: erased on {day} {minute} as {pseudonym}")
    assert page.locator("#held").count() == 0

    # And the account can no longer sign in.
    context = browser.new_context(locale="en-GB")
    try:
        other = context.new_page()
        sign_in(other, live_server, email, password)
        assert other.get_by_role("heading", level=1).inner_text() == "Sign in"
        assert other.get_by_role("navigation", name="Main").count() == 0
    finally:
        context.close()
