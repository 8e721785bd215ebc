"""Security headers on every HTTP response: pages, the API, feeds, static files and every error.

The headers are added as the response starts, by a hook on the ASGI ``send`` of the whole app
(Litestar's ``before_send``), so they also cover what never reaches a route's middleware: the
router's own 404 and 405, and errors raised before or after a handler. A header a handler set on
purpose (a route that needs a looser policy, say) is left as it is. Why each header, and how to run
behind a TLS proxy so that HSTS applies: ``docs/security.md``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from hub.config import Settings

# Stripe's card form (the "Pay now" page) is the only thing the hub loads from another site: its
# script, its iframes (the card fields, and 3-D Secure through hooks.stripe.com) and its API.
STRIPE_SCRIPTS = "https://js.stripe.com https://*.js.stripe.com"
STRIPE_FRAMES = "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        f"script-src 'self' {STRIPE_SCRIPTS}",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self' https://api.stripe.com",
        f"frame-src {STRIPE_FRAMES}",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "manifest-src 'self'",
        "worker-src 'self'",
    )
)

# Nothing the hub does needs a camera, a microphone, a location or other devices; paying may use
# the browser's Payment Request API inside Stripe's frame (Apple Pay, Google Pay).
PERMISSIONS_POLICY = ", ".join(
    (
        "accelerometer=()",
        "camera=()",
        "display-capture=()",
        "geolocation=()",
        "gyroscope=()",
        "magnetometer=()",
        "microphone=()",
        "midi=()",
        'payment=(self "https://js.stripe.com")',
        "usb=()",
    )
)

# Two years, subdomains included: what the HSTS preload list asks for (``preload`` is left for the
# operator to add, as it is hard to undo).
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"

# On every response, whatever it is.
ALWAYS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    # Secret calendar-feed addresses appear in pages and links: never tell another site, or even
    # another page of the same site over plain HTTP, where someone came from.
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("permissions-policy", PERMISSIONS_POLICY),
    ("cross-origin-opener-policy", "same-origin"),
)

Hook = Callable[[Any, Any], Awaitable[None]]


def _trusted(client_host: str | None, trusted_proxies: str) -> bool:
    """Is the immediate caller one of ``HUB_TRUSTED_PROXIES`` (addresses, networks or ``*``)?
    The same list the server (uvicorn's ``forwarded_allow_ips``) believes forwarded headers from."""
    if not client_host:
        return False
    entries = [entry.strip() for entry in trusted_proxies.split(",") if entry.strip()]
    if "*" in entries:
        return True
    try:
        address = ipaddress.ip_address(client_host)
    except ValueError:
        return client_host in entries  # a Unix socket path or a test client's name
    for entry in entries:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def came_over_https(scope: Any, settings: Settings) -> bool:
    """The request reached the hub over HTTPS: directly, or through a trusted TLS proxy that says
    so with ``X-Forwarded-Proto: https``. (Behind ``hubkeeper serve`` the server has already
    turned a trusted proxy's header into the request's scheme; the header check is for other
    servers and for tests.) Plain HTTP from anyone else is never taken for HTTPS."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    client = scope.get("client")
    if not _trusted(client[0] if client else None, settings.trusted_proxies):
        return False
    for name, value in scope.get("headers", ()):
        if name.lower() == b"x-forwarded-proto":
            # A chain of proxies lists each hop's protocol; the first is the browser's.
            return bool(value.decode("latin-1").split(",")[0].strip().lower() == "https")
    return False


def security_headers(settings: Settings) -> Hook:
    """The ``before_send`` hook that adds the headers to each response as it starts."""

    async def add_headers(message: Any, scope: Any) -> None:
        if message.get("type") != "http.response.start":
            return
        headers = list(message.get("headers") or [])
        present = {bytes(name).lower() for name, _ in headers}
        wanted = list(ALWAYS)
        if came_over_https(scope, settings):
            wanted.append(("strict-transport-security", STRICT_TRANSPORT_SECURITY))
        for name, value in wanted:
            key = name.encode("latin-1")
            if key not in present:
                headers.append((key, value.encode("latin-1")))
        message["headers"] = headers

    return add_headers
