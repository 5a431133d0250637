"""Writing output files safely: atomically, with the user's umask, never over an input file, never through a
device or a pipe, and a whole set of files (``solve --out DIR``) swapped in at once.

Every OS error becomes an :class:`OutputError` naming the path and the reason. Nothing here prints.

A set of files is written into a fresh hidden sibling directory (``.DIR.<pid>.tmp-XXXX``) and swapped in with one
atomic exchange of the two directories (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames). The
previous set stays complete until the swap; a reader, or a process killed at any moment, sees the whole old set or
the whole new one. Temporary directories are removed on a normal exit and on Ctrl-C; those of a process killed
outright are removed by the next write to the same place. Each set carries a manifest (:data:`MANIFEST`: the name
and checksum of every file allocopt wrote into it); a directory is replaced only if it is empty or holds exactly
such a set, unchanged, so that nothing a user put or edited there is ever deleted.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from allocopt.errors import AllocoptError, printable
from allocopt.io import marks


class OutputError(AllocoptError):
    """An output cannot be written where asked."""


def _reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def _cannot_write(path: str | Path, err: OSError) -> OutputError:
    return OutputError(printable(f"cannot write {path}: {_reason(err)}"))


def _umask() -> int:
    """The process's umask (read by setting it and putting it back: there is no other portable way)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a newly created file gets from the umask (0644 under the common umask 022)."""
    return 0o666 & ~_umask()


def dir_mode() -> int:
    return 0o777 & ~_umask()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.resolve() == b.resolve()
    except (OSError, RuntimeError, ValueError):
        return False


def _refuse_inputs(target: Path, protect: Iterable[str | Path]) -> None:
    for p in protect:
        if _same_file(target, Path(p)):
            raise OutputError(printable(f"refusing to write over the input file {p}: choose another output path"))


def _existing_ancestor(path: Path) -> Path:
    here = path.absolute()
    while not here.exists() and here != here.parent:
        here = here.parent
    return here


def _temporary_prefix(name: str) -> str:
    """Hidden, and named after the target and this process, so that a later run can tell a leftover of a killed
    run (its process is gone) from a file in use."""
    return f".{name}.{os.getpid()}.tmp-"


def _probe_directory(directory: Path, shown: str | Path, name: str) -> None:
    """Create (and remove) a file in ``directory``: the one sure test that it can be written."""
    try:
        fd, probe = tempfile.mkstemp(prefix=_temporary_prefix(name), dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise _cannot_write(shown, err) from None


def _target_stat(target: Path, *, follow: bool) -> os.stat_result | None:
    """The output target's status (None if it does not exist yet), or an :class:`OutputError` saying why it cannot
    be written (a file in the way above it, a permission, a name the OS refuses)."""
    try:
        return target.stat() if follow else target.lstat()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise OutputError(printable(f"cannot write {target}: a part of the path is a file, not a directory")) \
            from None
    except (OSError, ValueError) as err:
        raise OutputError(printable(f"cannot write {target}: {_reason(err) if isinstance(err, OSError) else err}")) \
            from None


def check_file_target(path: str | Path, *, protect: Iterable[str | Path] = (), force: bool = False) -> Path:
    """Refuse, before any work is done, an output file that cannot be written: a directory, a device or a pipe
    (``/dev/full``), an input file, a parent that is a file or cannot be written; and, unless ``force``, a file
    that is there already and is not one allocopt wrote and nobody changed since (see :mod:`allocopt.io.marks`), or
    a symbolic link. A link is never followed: with ``force`` the file written replaces the link, and what it points
    to stays as it was."""
    target = Path(path)
    st = _target_stat(target, follow=False)
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(printable(f"{target} is a directory: name a file to write"))
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            raise OutputError(printable(f"cannot write {target}: it is not a regular file (a device, a pipe or a "
                                        "socket); name a file"))
        _refuse_inputs(target, protect)
        if not force:
            _refuse_unless_ours(target, st)
    parent = _existing_ancestor(target.parent)
    if not parent.is_dir():
        raise OutputError(printable(f"cannot write {target}: {parent} is a file, not a directory"))
    _probe_directory(parent, target, target.name)
    return target


def _refuse_unless_ours(target: Path, st: os.stat_result) -> None:
    """Refuse to replace ``target`` (there already) unless allocopt wrote it and nobody changed it since; an empty
    file holds nothing to lose."""
    again = "name another file, or give --force to replace it"
    if stat.S_ISLNK(st.st_mode):
        to = ""
        with contextlib.suppress(OSError):
            to = f" (to {os.readlink(target)})"
        raise OutputError(printable(f"refusing to overwrite {target}: it is a symbolic link{to}; name another file, "
                                    "or give --force to replace the link itself (what it points to is never "
                                    "written)"))
    if st.st_size == 0:
        return
    try:
        fd = os.open(target, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            found = marks.verdict(fh.read())
    except OSError as err:
        raise OutputError(printable(f"refusing to overwrite {target}: it cannot be read ({_reason(err)}) to tell "
                                    f"whether allocopt wrote it; {again}")) from None
    if found == "ours":
        return
    if found == "changed":
        why = "it changed since allocopt wrote it"
    elif marks.style_of(target) is None:
        why = f"allocopt cannot tell that it wrote it (a {target.suffix or 'file without a suffix'} file carries " \
              "no mark of allocopt's)"
    else:
        why = "allocopt did not write it"
    raise OutputError(printable(f"refusing to overwrite {target}: {why}; {again}"))


def write_atomic(path: str | Path, text: str, *, protect: Iterable[str | Path] = (), sign: str | None = None,
                 force: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` so that a reader sees the old file or the whole new one, never half of
    it; see :func:`replace_atomic`."""
    return write_atomic_bytes(path, text.encode("utf-8"), protect=protect, sign=sign, force=force)


def write_atomic_bytes(path: str | Path, data: bytes, *, protect: Iterable[str | Path] = (), sign: str | None = None,
                       force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; see :func:`replace_atomic`."""
    signed = marks.sign(data, sign)

    def fill(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            fh.write(signed)

    return replace_atomic(path, fill, protect=protect, force=force)


def replace_atomic(path: str | Path, write: Callable[[Path], object], *, protect: Iterable[str | Path] = (),
                   suffix: str = "", sign: str | None = None, force: bool = False) -> Path:
    """Let ``write`` fill a temporary file next to ``path``, then rename it over ``path``: a reader sees the old
    file or the whole new one, and a symbolic link at ``path`` is replaced, never followed (what it points to is
    not written). ``sign`` (a style of :mod:`allocopt.io.marks`) marks the file as allocopt's; a file already at
    ``path`` is replaced only if it bears that mark unchanged, or with ``force`` (:func:`check_file_target`). The
    file gets the mode the umask gives; the temporary file never outlives the call. OS errors become
    :class:`OutputError`. This is the one way allocopt writes a file (a set of files: :func:`write_set`)."""
    target = check_file_target(path, protect=protect, force=force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(target.parent, target.name)
        fd, name = tempfile.mkstemp(prefix=_temporary_prefix(target.name), suffix=suffix, dir=target.parent)
    except OSError as err:
        raise _cannot_write(target, err) from None
    tmp = Path(name)
    try:
        os.close(fd)
        write(tmp)
        if sign is not None:
            _sign_file(tmp, sign)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, target)
    except OSError as err:
        raise _cannot_write(target, err) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return target


def _sign_file(tmp: Path, style: str) -> None:
    with open(tmp, "rb") as fh:
        data = fh.read()
    with open(tmp, "wb") as fh:
        fh.write(marks.sign(data, style))


# --------------------------------------------------------------------------------------------------------------
# A set of files, swapped in as a whole


MANIFEST = ".allocopt-manifest.json"
"""The record a result set carries of the files allocopt wrote into it (name -> SHA-256 of the content): only a
directory holding nothing but these files, unchanged, is replaced by the next set."""
MANIFEST_FORMAT = "allocopt-set/1"
MAX_MANIFEST_BYTES = 1 << 20


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_text(files: Mapping[str, str | bytes]) -> str:
    """The manifest of a set of files: their names and SHA-256 checksums, as JSON."""
    sums = {name: _sha256(_as_bytes(data)) for name, data in sorted(files.items())}
    return json.dumps({"format": MANIFEST_FORMAT, "files": sums}, indent=1) + "\n"


def _as_bytes(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8")


def _read_at(dir_fd: int, name: str, limit: int | None = None) -> bytes | None:
    """The content of the regular file ``name`` in the open directory (None if it is gone), never through a
    symbolic link or into a pipe."""
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0),
                     dir_fd=dir_fd)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as fh:
        return fh.read() if limit is None else fh.read(limit + 1)


def _recorded(dir_fd: int) -> dict[str, str] | None:
    """The checksums a set's manifest records, or None if there is no manifest allocopt could have written."""
    try:
        raw = _read_at(dir_fd, MANIFEST, MAX_MANIFEST_BYTES)
        data = json.loads(raw) if raw is not None and len(raw) <= MAX_MANIFEST_BYTES else None
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT or not isinstance(data.get("files"), dict):
        return None
    sums = data["files"]
    return sums if all(isinstance(k, str) and isinstance(v, str) for k, v in sums.items()) else None


def _listed(names: list[str], limit: int = 3) -> str:
    """'a', 'b' and 'c' (and how many more)."""
    shown = [f"'{n}'" for n in names[:limit]] + ([f"{len(names) - limit} more"] if len(names) > limit else [])
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _not_a_set_of_ours(directory: Path) -> tuple[str, list[str]] | None:
    """What keeps ``directory`` from being replaced (None if it is empty, or a result set allocopt wrote and nobody
    changed since): ``("foreign", names)``, files its manifest does not record (anything at all, when there is no
    manifest) or that are not regular files; ``("changed", names)``, files whose content changed since allocopt
    wrote them; ``(reason, [])``, the directory cannot be read."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as err:
        return _reason(err), []
    try:
        names = sorted(n for n in os.listdir(dir_fd) if not _is_probe_leftover(n))
        if not names:
            return None
        sums = _recorded(dir_fd) if MANIFEST in names else None
        ours = [n for n in names if n != MANIFEST and sums is not None and n in sums and _is_regular_at(dir_fd, n)]
        foreign = [n for n in names if n != MANIFEST and n not in ours] + ([MANIFEST] if sums is None and
                                                                           MANIFEST in names else [])
        if foreign:
            return "foreign", foreign
        assert sums is not None
        changed = [n for n in ours if _changed_at(dir_fd, n, sums[n])]
        return ("changed", changed) if changed else None
    except OSError as err:
        return _reason(err), []
    finally:
        os.close(dir_fd)


def _refusal(target: Path, found: tuple[str, list[str]]) -> OutputError:
    kind, names = found
    it = "it" if len(names) == 1 else "them"
    if kind == "foreign":
        older = " (a set from before allocopt kept a manifest counts as yours)" if "result.json" in names else ""
        why = f"it holds {_listed(names)}, which allocopt did not write{older}; move {it} out of {target} to keep {it}"
    elif kind == "changed":
        why = f"{_listed(names)} changed since allocopt wrote {it}; move {it} out of {target} to keep the changes"
    else:
        why = kind
    return OutputError(printable(f"refusing to write into {target}: {why}, or name a new or empty directory"))


def _is_probe_leftover(name: str) -> bool:
    """A probe file of a run writing the set right now, or of one killed while probing: allocopt's own."""
    m = _TMP_NAME.match(name)
    return m is not None and m.group("name") == "probe"


def _is_regular_at(dir_fd: int, name: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except FileNotFoundError:
        return True  # gone since it was listed: nothing there to lose


def _changed_at(dir_fd: int, name: str, recorded: str) -> bool:
    data = _read_at(dir_fd, name)
    return data is not None and _sha256(data) != recorded


def check_set_target(directory: str | Path, *, protect: Iterable[str | Path] = ()) -> Path:
    """Refuse, before any work is done, an output directory that cannot take a set of files: a file (or a file in
    the way above it), a directory that cannot be written, one holding an input file, anything allocopt did not
    write there, or a file of its set changed since (replacing the set replaces the whole directory)."""
    target = Path(directory)
    st = _target_stat(target, follow=False)
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise OutputError(printable(f"cannot write {target}: it is a symbolic link; name the directory itself"))
        if not stat.S_ISDIR(st.st_mode):
            raise OutputError(printable(f"cannot write {target}: it is a file, not a directory"))
        for p in protect:
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                if Path(p).exists() and target.resolve() in Path(p).resolve().parents:
                    raise OutputError(printable(f"refusing to write into {target}: it holds the input file {p}; "
                                                "choose another output directory"))
        found = _not_a_set_of_ours(target)
        if found is not None:
            raise _refusal(target, found)
        remove_stale(target, "probe")
        _probe_directory(target, target, "probe")  # swapping a directory out needs write access to it too
    parent = _existing_ancestor(target.absolute().parent)
    if not parent.is_dir():
        raise OutputError(printable(f"cannot write {target}: {parent} is a file, not a directory"))
    _probe_directory(parent, target, target.absolute().name)
    return target


_TMP_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.(?:tmp|old)-[A-Za-z0-9_]+(?:\.[A-Za-z0-9]+)?$")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale(parent: Path, name: str) -> None:
    """Remove the temporary directories and files that a killed run left next to ``parent / name``."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            m = _TMP_NAME.match(entry.name)
            if m and m.group("name") == name and not _pid_alive(int(m.group("pid"))):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


@functools.cache
def _renameat2() -> Callable[[bytes, bytes, int], int] | None:
    if not hasattr(os, "fsencode") or os.name != "posix":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    at_fdcwd = -100

    def call(old: bytes, new: bytes, flags: int) -> int:
        if func(at_fdcwd, old, at_fdcwd, new, flags) == 0:
            return 0
        return ctypes.get_errno() or errno.EINVAL

    return call


RENAME_EXCHANGE = 2


def _swap(new: Path, target: Path, parent: Path) -> Path | None:
    """Put directory ``new`` at ``target``; return where the previous directory went (to be removed), if any."""
    if not target.exists():
        try:
            os.rename(new, target)
            return None
        except OSError as err:
            if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
    exchange = _renameat2()
    if exchange is not None:
        code = exchange(os.fsencode(new), os.fsencode(target), RENAME_EXCHANGE)
        if code == 0:
            return new  # ``new`` now holds the previous set
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(code, os.strerror(code), str(target))
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.old-", dir=parent))
    os.rmdir(old)
    os.rename(target, old)  # the only moment without a set: platforms without an atomic exchange
    os.rename(new, target)
    return old


def write_set(directory: str | Path, files: Mapping[str, str | bytes], *,
              protect: Iterable[str | Path] = ()) -> Path:
    """Write ``files`` (name -> text, or bytes) as the directory ``directory``, replacing what it held as a whole,
    with the manifest (:data:`MANIFEST`) recording them."""
    if MANIFEST in files:
        raise ValueError(f"{MANIFEST} is the set's own record; name the file otherwise")
    files = {**files, MANIFEST: manifest_text(files)}
    target = check_set_target(directory, protect=protect)
    parent = target.absolute().parent
    name = target.absolute().name
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _cannot_write(target, err) from None
    remove_stale(parent, name)
    try:
        staging = Path(tempfile.mkdtemp(prefix=_temporary_prefix(name), dir=parent))
    except OSError as err:
        raise _cannot_write(target, err) from None
    leftover: Path | None = staging
    try:
        for filename, text in files.items():
            path = staging / filename
            with open(path, "wb") as fh:
                fh.write(_as_bytes(text))
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(path, file_mode())
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except OSError:
            mode = dir_mode()
        os.chmod(staging, mode)
        leftover = _swap(staging, target, parent)
    except OSError as err:
        raise _cannot_write(target, err) from None
    finally:
        if leftover is not None:
            shutil.rmtree(leftover, ignore_errors=True)
    return target
