"""Stripe test support: a local Stripe (localstripe), Stripe-enabled settings, the app under a real
server (so localstripe's webhooks can reach it), signed webhook events and money-path factories.

Fixtures defined here are imported explicitly by the test modules that use them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
import stripe
from litestar.testing import TestClient
from sqlalchemy import func, select

from hub.app import create_app
from hub.billing.models import (
    Invoice,
    LedgerEntry,
    Payment,
    PaymentAllocation,
    StripeEvent,
    StripeIntent,
    StripeRefund,
)
from hub.config import Settings
from hub.models import AuditEntry, OrganisationKind, RateBand, Role
from rooms.models import VatTreatment
from tests.conftest import ON_CI, Hub
from tests.rooms.conftest import make_room, set_rate

T = TypeVar("T")

SECRET_KEY = "sk_test_hubkeeper"
PUBLISHABLE_KEY = "pk_test_hubkeeper"
WEBHOOK_SECRET = "whsec_hubkeeper_test_secret"
# A Stripe API base nothing listens on: tests that must not reach any Stripe point here.
NOWHERE = "http://127.0.0.1:9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stripe_settings(settings: Settings, api_base: str = NOWHERE) -> Settings:
    """The per-test settings (same database) with Stripe switched on."""
    return replace(
        settings,
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=api_base,
        stripe_publishable_key=PUBLISHABLE_KEY,
    )


def today() -> date:
    """The hub's today (Europe/London), as the app computes it."""
    return datetime.now(ZoneInfo("Europe/London")).date()


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 10.0) -> T:
    """Poll ``probe`` until it answers something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


# -- localstripe -----------------------------------------------------------------------------------


@dataclass
class LocalStripe:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Take "Stripe" down (as an outage would); the fixture's teardown copes."""
        self.process.terminate()
        self.process.wait(timeout=10)

    def client(self) -> stripe.StripeClient:
        """The SDK pointed at localstripe, as the customer's browser (Stripe.js) would act."""
        return stripe.StripeClient(SECRET_KEY, base_addresses={"api": self.url}, max_network_retries=0)

    def register_webhook(self, url: str, secret: str = WEBHOOK_SECRET) -> None:
        response = httpx.post(
            f"{self.url}/_config/webhooks/hubkeeper", json={"url": url, "secret": secret}, timeout=5
        )
        assert response.status_code == 200, response.text

    def customer_pays(self, intent_id: str, payment_method: str = "pm_card_visa") -> Any:
        """What Stripe.js does in the browser: attach a card to the open intent and confirm it.

        localstripe refuses ``payment_method`` on confirm (500 "Not implemented"), so the card is
        set with an update first; its generic update accepts any existing attribute.
        """
        client = self.client()
        client.v1.payment_intents.update(intent_id, {"payment_method": payment_method})
        return client.v1.payment_intents.confirm(intent_id)


# Fixtures are named apart from their functions, so that a test module can import them without
# its parameters shadowing the import (ruff F811).
@pytest.fixture(name="localstripe")
def localstripe_fixture(tmp_path: Path) -> Iterator[LocalStripe]:
    """A fresh localstripe per test on a free port (its state is in memory: --from-scratch)."""
    executable = Path(sys.executable).parent / "localstripe"
    if not executable.exists():
        message = f"localstripe is not installed next to {sys.executable} (pip install localstripe)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "localstripe.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(executable), "--port", str(port), "--from-scratch"],
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                pytest.fail(f"localstripe exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                response = httpx.get(
                    f"{url}/v1/customers", headers={"Authorization": "Bearer sk_test_x"}, timeout=1
                )
                if response.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"localstripe did not start on port {port}: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield LocalStripe(url=url, log=log, process=process)
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# -- the app -----------------------------------------------------------------------------------------


@contextmanager
def hub_for(settings: Settings) -> Iterator[Hub]:
    """The app built from ``settings`` under Litestar's test client, with the Hub helpers."""
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        yield Hub(client)


@contextmanager
def live_server(settings: Settings) -> Iterator[str]:
    """The app under uvicorn on a free port (the variant of tests/rooms' ``live_url``)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@dataclass
class LiveHub:
    """The app with Stripe pointed at localstripe, served for real, and localstripe's webhook
    registered to it. ``hub`` is the same app under the test client, on the same database, for
    factories and database reads; ``http`` talks to the real server."""

    hub: Hub
    http: httpx.Client
    stripe: LocalStripe
    settings: Settings
    staff: dict[str, str]
    admin: dict[str, str]


@pytest.fixture(name="stripe_live")
def stripe_live_fixture(settings: Settings, localstripe: LocalStripe) -> Iterator[LiveHub]:
    configured = stripe_settings(settings, api_base=localstripe.url)
    with hub_for(configured) as hub, live_server(configured) as url:
        localstripe.register_webhook(f"{url}/webhooks/stripe")
        with httpx.Client(base_url=url, timeout=30) as http:
            yield LiveHub(
                hub=hub,
                http=http,
                stripe=localstripe,
                settings=configured,
                staff=hub.headers_for(Role.RECEPTIONIST),
                admin=hub.headers_for(Role.ADMIN),
            )


# -- data ----------------------------------------------------------------------------------------------

# Anything with .get/.post like httpx's: Litestar's TestClient or an httpx.Client.
Http = Any


def commercial_meeting_room(hub: Hub) -> tuple[int, int]:
    """A meeting room with a standard-rated commercial rate (£40/h + 20% VAT), and a company to
    hire it. Answers (room id, organisation id)."""
    room = make_room(hub, "Meeting Room", 12)
    set_rate(hub, room, RateBand.COMMUNITY, 1_200)
    set_rate(hub, room, RateBand.COMMERCIAL, 4_000, vat_treatment=VatTreatment.STANDARD, vat_rate_bp=2_000)
    company = hub.make_org("Active Coast Fitness Ltd", kind=OrganisationKind.COMMERCIAL)
    return room, company


def issue_invoice(
    http: Http,
    staff: dict[str, str],
    organisation_id: int,
    *,
    net_pence: int = 5_000,
    vat_rate_bp: int = 2_000,
) -> dict[str, Any]:
    """A manual charge for the organisation, invoiced and issued through the API."""
    charge = http.post(
        "/api/v1/charges",
        headers=staff,
        json={
            "organisation_id": organisation_id,
            "description": "Extra cleaning",
            "net_pence": net_pence,
            "supply_date": today().isoformat(),
            "vat_rate_bp": vat_rate_bp,
            "stream": "other",
        },
    )
    assert charge.status_code == 201, charge.text
    invoice = http.post("/api/v1/invoices", headers=staff, json={"organisation_id": organisation_id})
    assert invoice.status_code == 201, invoice.text
    body: dict[str, Any] = invoice.json()
    assert body["status"] == "issued"
    return body


COUNTED = {
    "payments": Payment,
    "allocations": PaymentAllocation,
    "ledger_entries": LedgerEntry,
    "audit_entries": AuditEntry,
    "stripe_events": StripeEvent,
    "stripe_intents": StripeIntent,
    "invoices": Invoice,
}


def counts(hub: Hub) -> dict[str, int]:
    """How many rows each table the money path writes holds."""

    async def work(db: Any) -> dict[str, int]:
        return {
            name: int(await db.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in COUNTED.items()
        }

    return hub.run(work)


def stripe_intents(hub: Hub) -> list[tuple[str, int, str, str]]:
    """(intent id, amount, status, last error) of every stored intent, oldest first."""

    async def work(db: Any) -> list[tuple[str, int, str, str]]:
        rows = await db.scalars(select(StripeIntent).order_by(StripeIntent.id))
        return [(r.intent_id, r.amount_pence, r.status, r.last_error) for r in rows]

    return hub.run(work)


def stripe_refund_requests(hub: Hub) -> list[tuple[int, int, str, str | None]]:
    """(payment id, amount, status, Stripe's refund id) of each refund request, oldest first."""

    async def work(db: Any) -> list[tuple[int, int, str, str | None]]:
        rows = await db.execute(
            select(
                StripeRefund.payment_id,
                StripeRefund.amount_pence,
                StripeRefund.status,
                StripeRefund.stripe_refund_id,
            ).order_by(StripeRefund.id)
        )
        return [tuple(row) for row in rows.all()]

    return hub.run(work)


def stripe_events(hub: Hub) -> list[tuple[str, str, str]]:
    """(event id, type, outcome) of every stored event, in the order received."""

    async def work(db: Any) -> list[tuple[str, str, str]]:
        rows = await db.scalars(select(StripeEvent).order_by(StripeEvent.received_at, StripeEvent.event_id))
        return [(r.event_id, r.type, r.outcome) for r in rows]

    return hub.run(work)


# -- webhook events ------------------------------------------------------------------------------------


def signature(payload: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's scheme: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>" keyed with the secret>."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def intent_event(
    event_id: str,
    event_type: str,
    *,
    intent_id: str,
    amount: int,
    invoice_id: int | None,
    error: str | None = None,
) -> dict[str, Any]:
    """A payment_intent.* event shaped like Stripe's."""
    succeeded = event_type == "payment_intent.succeeded"
    return {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount if succeeded else 0,
                "currency": "gbp",
                "status": "succeeded" if succeeded else "requires_payment_method",
                "metadata": {} if invoice_id is None else {"invoice_id": str(invoice_id)},
                "last_payment_error": None if error is None else {"code": "card_declined", "message": error},
            }
        },
    }


def signed_request(
    event: dict[str, Any] | bytes,
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    signed: bool = True,
) -> dict[str, Any]:
    """The body and headers of a webhook delivery as Stripe sends it, signed with ``secret``."""
    payload = event if isinstance(event, bytes) else json.dumps(event).encode()
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signed:
        headers["Stripe-Signature"] = signature(payload, secret, timestamp)
    return {"content": payload, "headers": headers}


def deliver(http: Http, event: dict[str, Any] | bytes, **options: Any) -> Any:
    """POST an event to the webhook as Stripe would (see :func:`signed_request` for options)."""
    return http.post("/webhooks/stripe", **signed_request(event, **options))
