"""Money test helpers: the rooms test building, and quick ways to make charges and invoices."""

from __future__ import annotations

from tests.rooms.conftest import building, live_url  # noqa: F401 - fixtures shared with rooms tests
