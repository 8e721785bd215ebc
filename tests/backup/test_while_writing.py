"""Done when: a backup taken while ten writers write restores to a database whose ledger check
passes and whose rows are exactly those committed before the backup began.

"Before the backup began" is made exact as a snapshot: the backup is the database as it stood at
one instant T, somewhere between the call to make it (S) and its return (E). Each writer records,
for every organisation it adds through the service layer, when it asked (``asked``) and when the
commit had returned (``done``). The restored rows must then be exactly those whose commit happened
before T, for some T in [S, E]:

* every row whose commit returned before S is there (nothing committed before the backup is lost);
* no row asked for after E is there;
* there is one T with every restored row asked for by T and every missing row not done before T —
  so what is restored is a cut through the commit order, never a mix of before and after, and
  never a row a writer did not commit (each name is unique and recorded only once committed).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from hub.auth import Identity
from hub.backup import service
from hub.config import Settings
from hub.models import OrganisationKind
from hub.schemas import OrganisationCreate
from hub.services import organisations
from tests.backup.conftest import at, hubkeeper, organisation_names
from tests.conftest import Hub

WRITERS = 10


def test_backup_taken_while_ten_writers_write_restores_exactly_the_rows_committed_before_it(
    hub: Hub, settings: Settings, empty_database_url: str, backups: Path
) -> None:
    state = hub.client.app.state
    committed: dict[str, tuple[float, float]] = {}  # name → (asked, done)

    async def scenario() -> tuple[float, float, Path]:
        stop = asyncio.Event()
        reached = asyncio.Event()
        target = [40]

        async def writer(number: int) -> None:
            count = 0
            while not stop.is_set():
                count += 1
                name = f"Writer {number} organisation {count}"
                asked = time.monotonic()
                async with state.sessionmaker(bind=state.write_engine) as db:
                    await organisations.create(
                        db,
                        Identity.system("writer"),
                        OrganisationCreate(name=name, kind=OrganisationKind.VCSE),
                    )
                committed[name] = (asked, time.monotonic())
                if len(committed) >= target[0]:
                    reached.set()

        tasks = [asyncio.create_task(writer(n)) for n in range(1, WRITERS + 1)]
        await reached.wait()
        started = time.monotonic()
        made = await asyncio.to_thread(service.make_backup, settings, backups)
        finished = time.monotonic()
        reached.clear()
        target[0] = len(committed) + 40  # the writers go on after the backup too
        await reached.wait()
        stop.set()
        await asyncio.gather(*tasks)
        return started, finished, made.path

    started, finished, path = hub.client.blocking_portal.call(scenario)

    result = hubkeeper(
        ["restore", str(path), "--yes", "--database-url", empty_database_url], settings.database_url, backups
    )
    assert result.exit_code == 0, result.output
    assert "Ledger check OK" in result.output

    restored = organisation_names(at(settings, empty_database_url))
    assert restored <= set(committed)  # nothing but committed rows
    present = {n: committed[n] for n in restored}
    missing = {n: times for n, times in committed.items() if n not in restored}
    assert {n for n, (_, done) in committed.items() if done < started} <= restored
    assert not {n for n, (asked, _) in committed.items() if asked > finished} & restored
    cut_from = max([started, *(asked for asked, _ in present.values())])
    cut_to = min([finished, *(done for _, done in missing.values())])
    assert cut_from <= cut_to, "the backup mixes rows from before and after one moment"
    # Each writer's rows are a prefix of what it wrote (it commits one after another).
    for number in range(1, WRITERS + 1):
        mine = sorted(int(n.rsplit(" ", 1)[1]) for n in restored if n.startswith(f"Writer {number} "))
        assert mine == list(range(1, len(mine) + 1))
    # The writers really were writing while the backup ran.
    assert any(started < done for _, done in committed.values())
    assert len(restored) >= 40
