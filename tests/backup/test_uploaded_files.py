"""A backup carries the uploaded files the database names (signed agreements, till pictures under
HUB_DATA_DIR) and a restore puts them back; a damaged or missing files archive is refused like a
damaged database copy, changing nothing."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

from click.testing import Result

from hub.backup import service
from hub.config import Settings
from tests.backup.conftest import fingerprint, hubkeeper

AGREEMENT = b"%PDF-1.7\n% a signed agreement\n" + bytes(range(256)) * 40
PICTURE = b"\x89PNG\r\n\x1a\n" + b"\x00picture" * 100


def _uploads(settings: Settings) -> dict[str, bytes]:
    data = settings.data_dir
    (data / "agreements").mkdir(parents=True, exist_ok=True)
    (data / "cafe").mkdir(parents=True, exist_ok=True)
    (data / "agreements" / "0a1b2c.pdf").write_bytes(AGREEMENT)
    (data / "cafe" / "3d4e5f.png").write_bytes(PICTURE)
    # An upload still being written (the services write ``.name.part`` then rename) is not carried.
    (data / "agreements" / ".9f9f9f.pdf.part").write_bytes(b"half")
    return {"agreements/0a1b2c.pdf": AGREEMENT, "cafe/3d4e5f.png": PICTURE}


def _restore(settings: Settings, backups: Path, path: Path) -> Result:
    return hubkeeper(
        ["restore", str(path), "--yes"], settings.database_url, backups, HUB_DATA_DIR=str(settings.data_dir)
    )


def _archive_of(path: Path) -> Path:
    return path.with_name(path.name + ".files.tar")


def test_a_backup_carries_the_uploaded_files_with_their_checksum(settings: Settings, backups: Path) -> None:
    expected = _uploads(settings)
    made = service.make_backup(settings, backups)

    archive = _archive_of(made.path)
    with tarfile.open(archive) as tar:
        carried = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert carried == expected
    sidecar = json.loads(made.path.with_name(made.path.name + ".json").read_text())
    assert sidecar["files"] == {
        "name": archive.name,
        "count": 2,
        "size_bytes": archive.stat().st_size,
        "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
    }
    [status] = service.backup_statuses(backups)
    assert (status.checksum, status.ok) == ("ok", True)


def test_without_uploads_there_is_no_files_archive(settings: Settings, backups: Path) -> None:
    made = service.make_backup(settings, backups)
    assert not _archive_of(made.path).exists()
    assert "files" not in json.loads(made.path.with_name(made.path.name + ".json").read_text())
    assert sorted(p.name for p in backups.iterdir()) == sorted(
        [made.path.name, made.path.name + ".sha256", made.path.name + ".json"]
    )


def test_restore_puts_the_files_back_and_keeps_a_different_file_of_the_same_name(
    settings: Settings, backups: Path
) -> None:
    expected = _uploads(settings)
    made = service.make_backup(settings, backups)
    # The disk is lost: one file gone, the other replaced by something else under its name.
    (settings.data_dir / "agreements" / "0a1b2c.pdf").unlink()
    (settings.data_dir / "cafe" / "3d4e5f.png").write_bytes(b"not the picture")

    result = _restore(settings, backups, made.path)

    assert result.exit_code == 0, result.output
    for name, content in expected.items():
        assert (settings.data_dir / name).read_bytes() == content
    assert "uploaded files: 2 put back, 0 already there" in result.output
    # Nothing is lost: the file that stood in the way is kept beside it.
    [aside] = (settings.data_dir / "cafe").glob("3d4e5f.png.before-restore-*")
    assert aside.read_bytes() == b"not the picture"
    assert f"a different file of the same name was kept at {aside}" in result.output

    again = _restore(settings, backups, made.path)
    assert again.exit_code == 0, again.output
    assert "uploaded files: 0 put back, 2 already there" in again.output


def _refused(settings: Settings, backups: Path, made: Path, reason: str) -> None:
    before = fingerprint(settings)
    files_before = sorted(p.relative_to(settings.data_dir) for p in settings.data_dir.rglob("*"))
    result = _restore(settings, backups, made)
    assert result.exit_code != 0
    assert reason in result.output
    assert "Nothing was restored" in result.output or "copy that file with the backup" in result.output
    assert fingerprint(settings) == before
    assert sorted(p.relative_to(settings.data_dir) for p in settings.data_dir.rglob("*")) == files_before


def test_a_damaged_files_archive_is_refused_and_nothing_changes(settings: Settings, backups: Path) -> None:
    _uploads(settings)
    made = service.make_backup(settings, backups)
    archive = _archive_of(made.path)
    damaged = bytearray(archive.read_bytes())
    damaged[600] ^= 0xFF
    archive.write_bytes(bytes(damaged))
    (settings.data_dir / "agreements" / "0a1b2c.pdf").unlink()

    _refused(settings, backups, made.path, f"{archive.name} does not match the checksum recorded")
    [status] = service.backup_statuses(backups)
    assert (status.checksum, status.ok) == ("mismatch", False)


def test_a_missing_files_archive_is_refused_and_the_page_says_so(settings: Settings, backups: Path) -> None:
    _uploads(settings)
    made = service.make_backup(settings, backups)
    _archive_of(made.path).unlink()

    _refused(settings, backups, made.path, "which is not beside it; copy that file with the backup")
    [status] = service.backup_statuses(backups)
    assert (status.checksum, status.ok) == ("missing", False)


def test_an_archive_that_would_write_outside_the_data_folder_is_refused(
    settings: Settings, backups: Path, tmp_path: Path
) -> None:
    _uploads(settings)
    made = service.make_backup(settings, backups)
    archive = _archive_of(made.path)
    # A forged archive, with a checksum to match written into the sidecar.
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))
    sidecar_path = made.path.with_name(made.path.name + ".json")
    sidecar = json.loads(sidecar_path.read_text())
    sidecar["files"]["sha256"] = hashlib.sha256(archive.read_bytes()).hexdigest()
    sidecar_path.write_text(json.dumps(sidecar))

    _refused(settings, backups, made.path, "is not a Hubkeeper files archive")
    assert not (settings.data_dir.parent / "outside.txt").exists()


def test_keep_prunes_the_files_archive_with_its_backup(settings: Settings, backups: Path) -> None:
    _uploads(settings)
    first = service.make_backup(settings, backups)
    second = service.make_backup(settings, backups, keep=1)
    assert second.pruned == [first.path.name]
    assert not _archive_of(first.path).exists()
    assert _archive_of(second.path).exists()


def test_a_backup_folder_inside_the_data_folder_is_not_archived_into_itself(settings: Settings) -> None:
    _uploads(settings)
    folder = settings.data_dir / "backups"
    first = service.make_backup(settings, folder)
    second = service.make_backup(settings, folder)
    with tarfile.open(_archive_of(second.path)) as tar:
        names = tar.getnames()
    assert sorted(names) == ["agreements/0a1b2c.pdf", "cafe/3d4e5f.png"]
    assert first.path.exists()
    shutil.rmtree(folder)
