"""The folder lock: one process at a time writes an output folder.

Two `sim run --force` started together into one folder would interleave their batches
under one manifest; a report computed while a run replaces the tables would mix two
runs.  So every command that writes a run folder (``sim run``, ``sim report``, the runs of
``sim size`` and ``sim sweep``) first takes the folder's lock, ``DIR/.sim-lock``, and a
second one is refused with a message naming the process that holds it.

The lock is a POSIX record lock (``fcntl.lockf``) on that file, which holds the owner's
pid, host and command for that message; the owner deletes the file when it is done.
The kernel drops the lock when its process ends, however it ends (kill -9 included), so
a lock file left by a dead process is recognised as stale and simply taken over; record
locks are not inherited by forked worker processes, so orphaned workers never keep a
folder locked.  Within one process the lock is re-entrant: `sim run --report` takes it
for the run, then for the report.

Examples
--------
>>> with locked("outputs/binjiang"):  # doctest: +SKIP
...     ...  # write the folder
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shlex
import socket
import sys
import time
from pathlib import Path
from typing import Iterator

from sim.errors import FolderBusy, OptionError, OutputError

LOCK = ".sim-lock"
_held: dict[Path, list[int]] = {}  # folder → [fd, depth]: locks this process holds
_command: list[str] = []  # what this process is, for the message a second process prints


def set_command(argv: list[str]) -> None:
    """Record the command line this process runs (the CLI calls it), for other processes' messages."""
    _command[:] = ["sim", *argv]


def this_command() -> str:
    return shlex.join(_command) if _command else shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])


@contextlib.contextmanager
def locked(folder: str | Path, *, create: bool = True, option: str = "--out", reading: bool = False) -> Iterator[Path]:
    """Hold ``folder``'s lock for the block; create the folder if needed and ``create``.

    A folder created here and still empty at the end is removed again, so a command
    refused after taking the lock leaves nothing behind.  ``reading``: the block only
    reads, so a folder this process may not write into (someone else's results on a
    read-only share) is read without the lock instead of refused.  Raises
    :class:`FolderBusy` naming the holder when another process has the lock,
    :class:`OutputError` when the folder is missing and not ``create``, and
    :class:`OptionError` (for ``option``) when the folder cannot be created or written.
    """
    folder = Path(folder)
    key = folder.resolve()
    if key in _held:
        _held[key][1] += 1
        try:
            yield folder
        finally:
            _held[key][1] -= 1
        return
    if not create and not folder.is_dir():
        raise OutputError(f"{folder}: no such folder; run `sim run SCENARIO --out {folder}` first")
    created = not folder.exists()
    if reading and not os.access(folder, os.W_OK):
        yield folder
        return
    fd = _acquire(folder, option)
    _held[key] = [fd, 1]
    try:
        yield folder
    finally:
        del _held[key]
        _release(folder, fd)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: the command wrote nothing


def holds(folder: str | Path) -> bool:
    return Path(folder).resolve() in _held


def _acquire(folder: Path, option: str) -> int:
    path = folder / LOCK
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise OptionError(option, str(folder), f"cannot write there: {exc.strerror or exc}") from None
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = _holder(fd)
            os.close(fd)
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise OptionError(option, str(folder), f"cannot lock it: {exc.strerror or exc}") from None
            raise FolderBusy(busy_message(folder, holder)) from None
        if _same_file(fd, path):
            break
        os.close(fd)  # the holder deleted the file while we waited: lock the one now there
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "command": this_command(),
                                  "since": dt.datetime.now().isoformat(timespec="seconds")}).encode(), 0)
    except OSError as exc:
        os.close(fd)
        raise OptionError(option, str(folder), f"cannot write there: {exc.strerror or exc}") from None
    return fd


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False


def _release(folder: Path, fd: int) -> None:
    """Delete the lock file, then drop the lock (a process that opened the old file sees it gone and retries)."""
    with contextlib.suppress(OSError):
        (folder / LOCK).unlink()
    os.close(fd)


def _holder(fd: int) -> dict:
    """What the holder wrote in the lock file; it writes right after locking, so wait a moment for it."""
    for _ in range(20):
        try:
            text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            if text.strip():
                return json.loads(text)
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    return {}


def busy_message(folder: Path, holder: dict) -> str:
    who = f"process {holder['pid']}" if holder.get("pid") else "another process"
    if holder.get("host") and holder["host"] != socket.gethostname():
        who += f" on {holder['host']}"
    what = f" (`{holder['command']}`, since {holder.get('since', '?')})" if holder.get("command") else ""
    return (f"{folder}: {who}{what} is writing this folder; wait for it to finish, or stop it, "
            "then run your command again")
