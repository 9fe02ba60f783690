"""The data folder's permissions, and what a crash leaves behind in it.

The data folder holds the SQLite database (plaintext SigV4 secrets, e-mail addresses), the
token secret, and every photo, backup and log the robots sent. Like PostgreSQL's data
directory, it must be private to the server's user: :func:`prepare_data_dir` creates it 0700
and refuses to start on one that others may read or write (unless the operator says
otherwise with ``JIBO_ALLOW_OPEN_DATA_DIR=true``). Everything inside is created private too,
with explicit modes and ``chmod`` rather than the process umask, which the server does not own.

:func:`sweep_partial_blobs` removes the ``.*.tmp`` files an interrupted write (kill -9, power
cut, a stalled upload cut off) can leave in the blob tree: they were never renamed into place,
so no record points at them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import time
from pathlib import Path

from jibo_cloud.config import Config
from jibo_cloud.errors import JiboCloudError

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
#: Permission bits that make a folder open to other users (group or world, any of r/w/x).
_OPEN_BITS = 0o077
#: A temporary blob this much older than the body timeout belongs to no live upload.
SWEEP_MARGIN_SECONDS = 60.0


class OpenDataDir(JiboCloudError):
    """The data folder is readable or writable by other users; start-up stops."""

    def __init__(self, path: Path, mode: int) -> None:
        super().__init__(
            f"the data folder {path} is open to other users (mode {mode:04o}); it holds robot "
            f"secrets and photos. Fix it with 'chmod 700 {path}', or start anyway with "
            "JIBO_ALLOW_OPEN_DATA_DIR=true (not recommended)"
        )
        self.path = path
        self.mode = mode


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and any missing parents) as 0700, whatever the umask.

    An existing folder is left as it is: :func:`check_data_dir` judges the data folder, and
    changing an operator's own folder behind their back would hide the problem.
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # another process made it first; it is theirs to have made private
        os.chmod(folder, PRIVATE_DIR)


def create_private_file(path: Path) -> None:
    """Make sure ``path`` exists with mode 0600 (created empty if missing; chmod if not)."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def chmod_private(path: Path) -> None:
    """``chmod 600 path`` when it exists (SQLite's ``-wal``/``-shm`` files of older installs)."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, PRIVATE_FILE)


def check_data_dir(config: Config) -> None:
    """Create the data folder 0700, or refuse one that other users may open.

    Raises:
        OpenDataDir: group or world bits are set and ``config.allow_open_data_dir`` is not.
    """
    path = config.data_dir
    make_private_dir(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & _OPEN_BITS:
        return
    if not config.allow_open_data_dir:
        raise OpenDataDir(path, mode)
    log.warning(
        "WARNING: the data folder %s is open to other users (mode %04o) and "
        "JIBO_ALLOW_OPEN_DATA_DIR is set: robot secrets and photos are readable by them. "
        "Run 'chmod 700 %s'",
        path, mode, path,
    )  # fmt: skip


def sweep_partial_blobs(root: Path, *, older_than_s: float, now_s: float | None = None) -> int:
    """Delete ``.*.tmp`` files under ``root`` last written more than ``older_than_s`` ago.

    The age check keeps a restarted ``--workers`` process from removing the temporary file of
    an upload another process is still receiving (that file is written at least once per
    body timeout). Returns how many files were removed.
    """
    if not root.is_dir():
        return 0
    cutoff = (time.time() if now_s is None else now_s) - older_than_s
    removed = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if not (name.startswith(".") and name.endswith(".tmp")):
                continue
            path = Path(folder) / name
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
    return removed


def prepare_data_dir(config: Config) -> None:
    """Start-up: the data folder private (or refused), partial blob writes swept."""
    check_data_dir(config)
    removed = sweep_partial_blobs(
        config.blob_dir, older_than_s=config.body_timeout + SWEEP_MARGIN_SECONDS
    )
    if removed:
        log.info("removed %d partial blob file(s) left by an interrupted write", removed)
