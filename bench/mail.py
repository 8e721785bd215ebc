"""How fast the outbox drains, and whether "forgot password" answers alike for any address.

For N queued messages (each with a 30 KB PDF attached, as an invoice's is) it measures the time
for one sender to send them all to a local aiosmtpd server, then for two senders at once (and
checks each message arrived exactly once); then the median time of a "forgot password" request
for an address with an account and for one without (the two should be close: the request does
the same work either way).

    .venv/bin/python bench/mail.py                       # SQLite, and PostgreSQL if configured
    .venv/bin/python bench/mail.py --messages 200
    HUB_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/mail.py --backend postgresql

Results go to ``bench/results/mail-<backend>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller

from bench.common import ROOT, environment, free_port, postgres_urls, sqlite_urls
from hub import mail, migrations
from hub.config import SmtpServer, load_settings
from hub.db import create_engine, create_sessionmaker, writer
from hub.mail.sender import send_due
from hub.models import Role, User
from hub.security import hash_password
from hub.services import password_reset

PDF = b"%PDF-1.4\n" + os.urandom(30_000) + b"\n%%EOF\n"


class Sink:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        line = next(x for x in envelope.content.split(b"\r\n") if x.lower().startswith(b"message-id:"))
        with self.lock:
            self.ids.append(line.decode())
        return "250 OK"


async def _queue(settings: Any, count: int) -> None:
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(writer(engine))() as db:
            for i in range(count):
                await mail.enqueue(
                    db,
                    kind="bench",
                    to=f"person{i}@example.org",
                    to_name=f"Person {i}",
                    subject=f"Invoice INV-{i:06d}",
                    text="Your invoice is attached.\n",
                    html="<p>Your invoice is attached.</p>",
                    attachments=[mail.Attachment(f"INV-{i:06d}.pdf", "application/pdf", PDF)],
                )
            await db.commit()
    finally:
        await engine.dispose()


def _drain(settings: Any, senders: int) -> float:
    start = threading.Barrier(senders)

    def one() -> None:
        async def run() -> None:
            engine = create_engine(settings)
            try:
                start.wait()
                while (await send_due(engine, settings)).tried:
                    pass
            finally:
                await engine.dispose()

        asyncio.run(run())

    began = time.perf_counter()
    threads = [threading.Thread(target=one) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began


async def _forgot_timings(settings: Any, rounds: int) -> dict[str, float]:
    engine = create_engine(settings)
    try:
        maker = create_sessionmaker(writer(engine))
        async with maker() as db:
            db.add(
                User(
                    email="known@example.org",
                    name="Known Person",
                    role=Role.RECEPTIONIST.value,
                    password_hash=hash_password("bench-password-123"),
                    active=True,
                    failed_logins=0,
                )
            )
            await db.commit()
        lax = replace(settings, login_max_failures=100_000)
        samples: dict[str, list[float]] = {"known": [], "unknown": []}
        for i in range(rounds):
            for which in ("known", "unknown"):
                async with maker() as db:
                    began = time.perf_counter()
                    await password_reset.request_reset(
                        db, lax, f"{which}@example.org", ip_address=f"10.0.{i % 250}.{len(which)}"
                    )
                    samples[which].append((time.perf_counter() - began) * 1000)
        return {f"{k}_median_ms": round(statistics.median(v), 2) for k, v in samples.items()}
    finally:
        await engine.dispose()


def run(backend: str, url_of: Any, messages: int) -> dict[str, Any]:
    results: dict[str, Any] = {"backend": backend, "messages": messages, "environment": environment()}
    for label, senders in (("one_sender", 1), ("two_senders", 2)):
        for url in url_of(messages):
            settings = load_settings({"HUB_ENV": "test", "HUB_DATABASE_URL": url})
            migrations.upgrade(settings)
            sink = Sink()
            port = free_port()
            controller = Controller(sink, hostname="127.0.0.1", port=port)
            controller.start()
            try:
                settings = replace(
                    settings, smtp=SmtpServer("127.0.0.1", port), mail_from="Hub <hub@example.org>"
                )
                asyncio.run(_queue(settings, messages))
                seconds = _drain(settings, senders)
            finally:
                controller.stop()
            results[label] = {
                "seconds": round(seconds, 2),
                "messages_per_second": round(messages / seconds, 1),
                "arrived": len(sink.ids),
                "distinct": len(set(sink.ids)),
            }
            print(label, results[label], flush=True)
            if label == "one_sender":
                results["forgot_password"] = asyncio.run(_forgot_timings(settings, 30))
                print("forgot_password", results["forgot_password"], flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    pg = os.environ.get("HUB_BENCH_POSTGRES_URL")
    backends = []
    if args.backend in ("sqlite", "both"):
        backends.append(("sqlite", sqlite_urls("hub-bench-mail")))
    if args.backend in ("postgresql", "both") and pg:
        backends.append(("postgresql", postgres_urls(pg, "hub_bench_mail")))
    for backend, url_of in backends:
        results = run(backend, url_of, args.messages)
        out = ROOT / "bench" / "results" / f"mail-{backend}.json"
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
