"""Writing output folders without ever losing a user's files.

Every folder mbo-sim writes (a run, an experiment report, the calibration table) is built in a
hidden temporary sibling and swapped into place when complete, so that an interrupted or failed
write leaves no partial folder and an earlier complete folder stays intact until the new one is
complete. Each such folder carries a marker file (``.mbo-sim``); an existing folder is replaced
only if it carries the marker (or, for folders of version 0.1, a run manifest). Anything else is
refused with one line naming the folder, and left untouched.

Two processes writing the same folder at once are serialised by a lock on the parent folder
around the final check-and-swap; the second one sees the first one's result (and, for runs,
skips a complete run of the same configuration).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

MARKER = ".mbo-sim"
MARKER_TEXT = "This folder was written by mbo-sim; mbo-sim may replace it.\n"


class UnsafeOutput(OSError):
    """An output path that mbo-sim will not write: it would replace something that is not its own."""


def owned(folder: Path) -> bool:
    """True if ``folder`` was written by mbo-sim: it has the marker, or a version-0.1 run manifest."""
    folder = Path(folder)
    if (folder / MARKER).is_file():
        return True
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and {"run_name", "config", "packages", "status"} <= set(manifest)


def _refuse_unless_ours(path: Path, right_kind: Callable[[Path], bool], ours: Callable[[Path], bool],
                        wrong_kind: str, not_ours: str) -> None:
    """Refuse (UnsafeOutput) if ``path`` exists and is a link, not of the right kind, or not ours."""
    if path.is_symlink() or (path.exists() and not right_kind(path)):
        raise UnsafeOutput(wrong_kind)
    if path.exists() and not ours(path):
        raise UnsafeOutput(not_ours)


def check_replaceable(folder: Path) -> None:
    """Refuse (UnsafeOutput) if ``folder`` exists and is not an mbo-sim folder."""
    folder = Path(folder)
    _refuse_unless_ours(
        folder, Path.is_dir, owned,
        f"{folder} exists and is not an mbo-sim results folder; refusing to replace it "
        "(choose another run_name or output_dir)",
        f"{folder} exists and is not an mbo-sim results folder (no {MARKER} marker); "
        "refusing to replace it — it was left untouched (choose another run_name or output_dir)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(target: Path) -> None:
    """Remove temp folders that killed earlier attempts at ``target`` left behind (their process
    is gone); temp folders of a process still running are left alone."""
    target = Path(target)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        try:
            pid = int(stale.name[len(target.name) + 6 :].split("-")[0])
        except ValueError:
            continue
        if not _alive(pid) and ((stale / MARKER).is_file() or not any(stale.iterdir())):
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``folder`` (released when the process dies)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the few system calls of a swap (main thread only)."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    except (ValueError, OSError):  # not available here
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    res = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if res == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_into_place(tmp: Path, target: Path) -> None:
    """Put the complete folder ``tmp`` at ``target``; an earlier ``target`` is removed only
    after the new one is in place."""
    with signals_deferred():
        if not target.exists():
            os.rename(tmp, target)
            return
        if _exchange(tmp, target):  # tmp now holds the old folder
            shutil.rmtree(tmp, ignore_errors=True)
            return
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)
        try:
            os.rename(tmp, target)
        except BaseException:
            os.rename(old, target)
            raise
        shutil.rmtree(old, ignore_errors=True)


def atomic_folder(target: Path, fill: Callable[[Path], None], skip: Callable[[], bool] | None = None) -> bool:
    """Build ``target`` with ``fill(tmp)`` in a temporary sibling and swap it into place.

    Refuses (UnsafeOutput) before writing anything if ``target`` exists and is not an mbo-sim
    folder. ``skip()``, checked under the lock just before the swap, may say that another process
    has meanwhile written an equivalent folder: then the new one is discarded and False returned.
    On any error or interrupt the temporary folder is removed and ``target`` is left as it was.
    """
    target = Path(target)
    check_replaceable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    try:
        (tmp / MARKER).write_text(MARKER_TEXT)
        tmp.chmod(0o755)  # mkdtemp makes it private; results are for everyone who can read the folder
        fill(tmp)
        with locked(target.parent):
            if skip is not None and skip():
                shutil.rmtree(tmp, ignore_errors=True)
                return False
            check_replaceable(target)
            swap_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return True


def check_file_replaceable(target: Path, owned_file: Callable[[Path], bool]) -> None:
    """Refuse (UnsafeOutput) if the single file ``target`` exists and is not a regular file that
    ``owned_file(target)`` says mbo-sim wrote."""
    target = Path(target)
    _refuse_unless_ours(
        target, Path.is_file, owned_file,
        f"{target} exists and is not a file mbo-sim wrote; refusing to replace it — "
        "it was left untouched (move it away or choose another output)",
        f"{target} exists and was not written by mbo-sim; refusing to replace it — "
        "it was left untouched (move it away or choose another output)")


def atomic_file(target: Path, write: Callable[[Path], None], owned_file: Callable[[Path], bool]) -> None:
    """Write the single file ``target`` with ``write(tmp)`` into a temporary file in the same folder,
    then move it into place (``os.replace``).

    Refuses (UnsafeOutput) before writing anything if ``target`` exists and is not a regular file
    that ``owned_file(target)`` says mbo-sim wrote; the check is repeated under the folder's lock
    just before the move. On any error or interrupt the temporary file is removed and ``target``
    is left as it was.
    """
    target = Path(target)
    check_file_replaceable(target, owned_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):  # left by killed earlier attempts
        pid = stale.name[len(target.name) + 6 :].split("-")[0]
        if pid.isdigit() and stale.is_file() and not stale.is_symlink() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        tmp.chmod(0o644)  # mkstemp makes it private; outputs are for everyone who can read the folder
        write(tmp)
        with locked(target.parent):
            check_file_replaceable(target, owned_file)
            with signals_deferred():
                os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
