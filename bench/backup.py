"""Benchmark: how long ``hubkeeper backup`` and ``hubkeeper restore`` take, for the demo hub and for
a hub at bench scale, on SQLite and PostgreSQL.

Two databases per backend: the demo (``hubkeeper demo --no-serve``, as a new user makes it) and the
bench-scale hub of ``bench/reports.py`` (the demo plus three years at ten times its weekly rate:
≈ 19,000 bookings, 1,440 invoices with their ledger journals, 140 organisations; its seeder is
imported, not copied). For each it times, in this process, with the code the commands run:

* backup — ``hub.backup.service.make_backup`` (SQLite online backup API + integrity check + row
  counts; or ``pg_dump --format=custom``), then checksum and sidecar;
* restore — ``hub.backup.service.restore`` into a new, empty database (every check: checksum,
  header, revision, integrity; the copy; no migration needed), and the ledger check after it
  (the command runs both);

The bench-scale hub also has uploaded files under its own ``HUB_DATA_DIR``: a signed agreement
PDF for each of 140 tenancies (300 KB of random bytes each, which no archive compresses) and 40
menu pictures (80 KB), ≈ 45 MB, which every backup carries and every restore puts back into an
empty folder. Their copy is timed too, as ``cp -r`` of the folder, as a third baseline.

Measured beside two baselines in the same run on the same database: reading every row of every
table (``SELECT count(*)`` over each table) and, on SQLite, ``VACUUM INTO`` a new file (SQLite's
own whole-database copy). ``hubkeeper``'s start-up (``hubkeeper --help``) is timed once, since
the commands pay it on top.

    .venv/bin/python bench/backup.py                  # SQLite (+ PostgreSQL if HUB_BENCH_POSTGRES_URL)
    .venv/bin/python bench/backup.py --quick          # a tenth of the bench-scale history
    HUB_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/backup.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import reports as reports_bench  # noqa: E402
from common import environment, postgres_urls, sqlite_urls  # noqa: E402

from hub.config import Settings, sqlite_path  # noqa: E402

HUBKEEPER = str(Path(sys.executable).with_name("hubkeeper"))


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = work()
    return time.perf_counter() - started, answer


def median_of(repeats: int, work: Callable[[], Any]) -> float:
    return statistics.median(timed(work)[0] for _ in range(repeats))


def count_every_table(settings: Settings) -> int:
    """The baseline: read every table once (what any whole-database copy must at least do)."""
    path = sqlite_path(settings.database_url)
    if path is not None:
        with closing(sqlite3.connect(path)) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return sum(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)

    async def count() -> int:
        from hub.backup.service import _pg_connect

        conn = await _pg_connect(settings.database_url)
        try:
            tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            total = 0
            for row in tables:
                total += await conn.fetchval(f'SELECT count(*) FROM public."{row["tablename"]}"')
            return total
        finally:
            await conn.close()

    return asyncio.run(count())


def vacuum_into(settings: Settings, folder: Path) -> None:
    path = sqlite_path(settings.database_url)
    assert path is not None
    target = folder / f"vacuum-{time.monotonic_ns()}.sqlite3"
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("VACUUM INTO ?", (str(target),))
    target.unlink()


def ledger_check(settings: Settings) -> Any:
    from hub.app import default_registry
    from hub.billing.services import ledger
    from hub.commands import run_with_db

    registry = default_registry()
    return run_with_db(
        settings,
        lambda db: ledger.check(db, pending_after=timedelta(minutes=15), registry=registry),
        write=False,
    )


AGREEMENTS, AGREEMENT_BYTES = 140, 300 * 1024
PICTURES, PICTURE_BYTES = 40, 80 * 1024


def make_uploads(data_dir: Path) -> dict[str, int]:
    """Uploaded files as the services store them: random names under agreements/ and cafe/."""
    for folder, count, size, suffix in (
        ("agreements", AGREEMENTS, AGREEMENT_BYTES, "pdf"),
        ("cafe", PICTURES, PICTURE_BYTES, "png"),
    ):
        (data_dir / folder).mkdir(parents=True, exist_ok=True)
        for _ in range(count):
            (data_dir / folder / f"{os.urandom(16).hex()}.{suffix}").write_bytes(os.urandom(size))
    return {"files": AGREEMENTS + PICTURES, "bytes": AGREEMENTS * AGREEMENT_BYTES + PICTURES * PICTURE_BYTES}


def copy_folder(data_dir: Path, folder: Path) -> None:
    target = folder / f"cp-{time.monotonic_ns()}"
    subprocess.run(["cp", "-r", str(data_dir), str(target)], check=True)
    subprocess.run(["rm", "-rf", str(target)], check=True)


def make_demo(settings: Settings) -> None:
    path = sqlite_path(settings.database_url)
    command = [HUBKEEPER, "demo", "--no-serve"]
    command += ["--database", str(path)] if path is not None else ["--database-url", settings.database_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)


def make_bench_scale(settings: Settings, scale: float) -> dict[str, Any]:
    from hub import migrations

    migrations.upgrade(settings)
    seeded: dict[str, Any] = asyncio.run(reports_bench._seed(settings, scale))
    return {k: v for k, v in seeded.items() if k != "token"}


def measure(
    backend: str, label: str, settings: Settings, targets: Callable[[], Iterator[str]], repeats: int
) -> dict[str, Any]:
    from hub.backup import service

    with tempfile.TemporaryDirectory(prefix="hub-bench-backup-") as work:
        folder = Path(work)
        rows = count_every_table(settings)
        # The restored copy must answer the ledger check exactly as the original does.
        original = ledger_check(settings)
        baseline = median_of(repeats, lambda: count_every_table(settings))
        vacuum = median_of(repeats, lambda: vacuum_into(settings, folder)) if backend == "sqlite" else None
        has_files = settings.data_dir.is_dir()
        copy = median_of(repeats, lambda: copy_folder(settings.data_dir, folder)) if has_files else None
        backups: list[Any] = []
        backup_times = []
        for _ in range(repeats):
            seconds, made = timed(lambda: service.make_backup(settings, folder / f"b{len(backups)}"))
            backups.append(made)
            backup_times.append(seconds)
        made = backups[0]
        restore_times, check_times = [], []
        ledger_ok = True
        same = True
        for _ in range(repeats):
            for url in targets():
                # Into an empty database and an empty data folder: every file is put back.
                target = replace(
                    settings,
                    database_url=url,
                    backup_dir=folder / "kept",
                    data_dir=folder / f"restored-files-{len(restore_times)}",
                )
                seconds, _ = timed(lambda target=target: service.restore(target, made.path))  # type: ignore[misc]
                restore_times.append(seconds)
                seconds, result = timed(lambda target=target: ledger_check(target))  # type: ignore[misc]
                check_times.append(seconds)
                ledger_ok = ledger_ok and result.ok
                same = same and (result.ok, result.problems, result.entries) == (
                    original.ok,
                    original.problems,
                    original.entries,
                )
    backup_s = statistics.median(backup_times)
    restore_s = statistics.median(restore_times)
    check_s = statistics.median(check_times)
    figures = {
        "backend": backend,
        "database": label,
        "rows": rows,
        "backup_bytes": made.size_bytes,
        "uploaded_files_carried": made.files_count,
        "baseline_cp_r_data_dir_s": round(copy, 4) if copy is not None else None,
        "baseline_count_every_table_s": round(baseline, 4),
        "baseline_vacuum_into_s": round(vacuum, 4) if vacuum is not None else None,
        "backup_s": round(backup_s, 4),
        "restore_s": round(restore_s, 4),
        "ledger_check_after_restore_s": round(check_s, 4),
        "ledger_check_ok": ledger_ok,
        "ledger_check_ok_on_original": original.ok,
        "ledger_check_same_as_original": same,
        "ledger_problems_on_original": original.problems[:5],
        "backup_x_count": round(backup_s / baseline, 1),
        "restore_x_count": round(restore_s / baseline, 1),
        "backup_x_vacuum_into": round(backup_s / vacuum, 2) if vacuum else None,
        "repeats": repeats,
    }
    vacuum_text = f", VACUUM INTO {vacuum:.3f}s (backup x{backup_s / vacuum:.2f})" if vacuum else ""
    if copy is not None:
        vacuum_text += f"; {made.files_count} uploaded files, cp -r of them {copy:.3f}s"
    print(
        f"[{backend}] {label:12} {rows:>8,} rows {made.size_bytes / 1e6:7.1f} MB | "
        f"backup {backup_s:6.3f}s  restore {restore_s:6.3f}s (+ ledger check {check_s:5.3f}s, "
        f"{'ok' if ledger_ok else 'FAILED'}; original {'ok' if original.ok else 'FAILED'}, "
        f"{'same answer' if same else 'A DIFFERENT ANSWER'}) | count(*) over every table {baseline:.3f}s "
        f"(backup x{backup_s / baseline:.1f}, restore x{restore_s / baseline:.1f}){vacuum_text}",
        flush=True,
    )
    return figures


def run_backend(backend: str, urls: Callable[[int], Iterator[str]], scale: float, repeats: int) -> list[Any]:
    from reports import bench_settings

    runs = []
    counter = iter(range(1, 1_000_000))

    def targets() -> Iterator[str]:
        return urls(next(counter))

    for label in ("demo", "bench scale"):
        for url in urls(0 if label == "demo" else 1_000_000):
            uploads = Path(tempfile.mkdtemp(prefix="hub-bench-uploads-"))
            settings = replace(bench_settings(url), data_dir=uploads / "data")
            print(f"[{backend}] making the {label} database ...", flush=True)
            seconds, history = timed(
                (lambda settings=settings: make_demo(settings))  # type: ignore[misc]
                if label == "demo"
                else (lambda settings=settings: make_bench_scale(settings, scale))  # type: ignore[misc]
            )
            if label != "demo":
                history = {**(history or {}), "uploads": make_uploads(settings.data_dir)}
            print(f"[{backend}] made in {seconds:.1f}s", flush=True)
            figures = measure(backend, label, settings, targets, repeats)
            if history:
                figures["history"] = history
            runs.append(figures)
            subprocess.run(["rm", "-rf", str(uploads)], check=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    scale, repeats = (0.1, 3) if args.quick else (1.0, 5)
    startup, _ = timed(lambda: subprocess.run([HUBKEEPER, "--help"], check=True, capture_output=True))
    print(f"hubkeeper start-up (paid by each command on top of these figures): {startup:.2f}s")
    results: dict[str, Any] = {"environment": environment(), "scale": scale, "startup_s": round(startup, 2)}
    results["runs"] = run_backend("sqlite", sqlite_urls("hub-bench-backup"), scale, repeats)
    pg = os.environ.get("HUB_BENCH_POSTGRES_URL", "").strip()
    if pg and not args.sqlite_only:
        results["runs"] += run_backend("postgresql", postgres_urls(pg, "hub_bench_backup"), scale, repeats)
    out = ROOT / "bench" / "results" / ("backup-quick.json" if args.quick else "backup.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
