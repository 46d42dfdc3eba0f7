"""Files the command line writes and reads, written so that a failure loses nothing and a hostile
file costs nothing.

Writing (:func:`atomic_write`, :func:`write_npz`): the data goes to a temporary file in the
target's folder, is flushed to disk, then renamed over the target (``os.replace``, atomic on
POSIX and Windows within one file system). A full disk, a size limit, an error or Ctrl-C leaves the
previous file untouched and no partial file behind. Tensor names are archive member names, never
keyword arguments (``np.savez(f, **arrays)`` drops or crashes on ``file`` and ``allow_pickle``).

Reading (:func:`read_npy`, :func:`NpzReader`): regular files only (a FIFO would block, a device
never ends), the ``.npy`` header is read and checked first - the declared shape against the
caller's check, the declared size against the bytes the file (or the archive member) really
holds and against this machine's memory - and only then is the array read. An ``.npz`` archive
reads only the members asked for. Every failure is a
:class:`~trt_exec.errors.ConfigurationError` (exit status 2) naming the option and the file.
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import IO

import numpy as np

from ..errors import ConfigurationError, TrtExecError

__all__ = [
    "check_output_path",
    "atomic_write",
    "write_npz",
    "read_npy",
    "open_regular",
    "NpzReader",
    "memory_limit",
    "HeaderCheck",
]

#: Called with (shape, dtype) read from a header before the array is read; raises to refuse it.
HeaderCheck = Callable[[tuple[int, ...], np.dtype], None]


def memory_limit() -> int | None:
    """This machine's physical memory in bytes (None where the OS does not say): a file or an
    array larger than this cannot be read or allocated, so it is refused up front."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


# --- writing -----------------------------------------------------------------------------------
def check_output_path(path: str, option: str) -> str:
    """Refuse an output path that cannot name a file: empty, a folder, or in a missing folder.
    Called before any work, so a run is not wasted on a path that cannot be written."""
    if not path:
        raise ConfigurationError(f"{option} {path!r}: the path is empty; give a file name")
    if "\0" in path:
        raise ConfigurationError(f"{option} {path!r}: the path contains a NUL byte")
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise ConfigurationError(
            f"{option} {path!r} is a folder; give a file name (e.g. {os.path.join(path, 'out')!r})"
        )
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise ConfigurationError(
            f"{option} {path!r}: folder {folder!r} does not exist; create it first"
        )
    return path


def _new_file_mode(path: str) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)  # keep the replaced file's permissions
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path: str, option: str, write: Callable[[IO[bytes]], object]) -> None:
    """Call ``write`` on a temporary file next to ``path``, then rename it to ``path``.

    On any failure (an exception from ``write``, a full disk, KeyboardInterrupt) the temporary
    file is removed and ``path`` is untouched. OSError becomes a ConfigurationError.
    """
    check_output_path(path, option)
    folder = os.path.dirname(path) or "."
    try:
        fd, tmp = tempfile.mkstemp(
            dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".partial"
        )
    except OSError as exc:
        raise ConfigurationError(
            f"{option} {path!r}: cannot write in {folder!r} ({exc.strerror or exc})"
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _new_file_mode(path))
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise ConfigurationError(
                f"{option} {path!r}: cannot write it ({exc.strerror or exc}); the previous file, "
                "if any, is unchanged"
            ) from None
        raise


def write_npz(path: str, arrays: Mapping[str, np.ndarray], option: str) -> None:
    """Write ``arrays`` as an uncompressed .npz (what ``np.savez`` writes), atomically; each
    name is a member ``NAME.npy``, whatever the name (``file``, ``allow_pickle``, ...)."""

    def write(f: IO[bytes]) -> None:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, arr in arrays.items():
                with zf.open(name + ".npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(arr), allow_pickle=False)

    atomic_write(path, option, write)


# --- reading -----------------------------------------------------------------------------------
def open_regular(path: str, option: str) -> IO[bytes]:
    """``path`` opened for reading when it is a regular file; a typed error otherwise."""
    if not path:
        raise ConfigurationError(f"{option}: the file name is empty")
    if "\0" in path:
        raise ConfigurationError(f"{option}: file {path!r} contains a NUL byte")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ConfigurationError(f"{option}: file {path!r} does not exist") from None
    except OSError as exc:
        raise ConfigurationError(
            f"{option}: file {path!r} cannot be read ({exc.strerror or exc})"
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigurationError(f"{option}: {path!r} is a directory, not a .npy/.npz file")
    if not stat.S_ISREG(st.st_mode):
        raise ConfigurationError(
            f"{option}: {path!r} is not a regular file (a pipe, device or socket); save the "
            "array to a .npy/.npz file"
        )
    try:
        # O_NONBLOCK: should the path have become a FIFO since the check, opening must not wait.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        return os.fdopen(fd, "rb")
    except PermissionError:
        raise ConfigurationError(
            f"{option}: file {path!r} is not readable (permission denied)"
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"{option}: file {path!r} cannot be read ({exc.strerror or exc})"
        ) from None


def _read_header(f: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f".npy format version {version!r} is not supported (1.0 and 2.0 are)")
    return tuple(int(d) for d in shape), bool(fortran), np.dtype(dtype)


def _read_array(
    f: IO[bytes], available: int, where: str, option: str, check: HeaderCheck | None
) -> np.ndarray:
    """Header first, then the data: ``available`` is how many bytes the file or member holds."""
    try:
        start = f.tell()
        shape, _, dtype = _read_header(f)
        header_len = f.tell() - start
    except TrtExecError:
        raise
    except Exception as exc:
        raise ConfigurationError(f"{option}: {where} is not a valid .npy array ({exc})") from None
    if dtype.hasobject:
        raise ConfigurationError(
            f"{option}: {where} holds Python objects (dtype {dtype!r}), which are never loaded "
            "(it would need pickle); save a numeric array"
        )
    if check is not None:
        check(shape, dtype)
    count = 1
    for d in shape:
        count *= d
    nbytes = count * dtype.itemsize
    limit = memory_limit()
    if limit is not None and nbytes > limit:
        raise ConfigurationError(
            f"{option}: {where} declares shape {list(shape)} ({nbytes} bytes), more than this "
            f"machine's memory ({limit} bytes); it is not read"
        )
    if nbytes > available - header_len:
        raise ConfigurationError(
            f"{option}: {where} declares shape {list(shape)} of {dtype.name} ({nbytes} bytes) "
            f"but holds only {max(available - header_len, 0)} bytes of data: it is truncated "
            "or corrupt"
        )
    try:
        f.seek(start)  # read_array reads the header again
        arr = np.lib.format.read_array(f, allow_pickle=False)
    except Exception as exc:
        raise ConfigurationError(f"{option}: {where} cannot be read ({exc})") from None
    return np.asarray(arr)


def read_npy(path: str, option: str, check: HeaderCheck | None = None) -> np.ndarray:
    """The array of a .npy file; ``check`` sees the declared shape and dtype before any data."""
    with open_regular(path, option) as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(8)
        f.seek(0)
        if not head.startswith(b"\x93NUMPY"):
            # np.load would take such a file for a pickle and advise allow_pickle.
            what = "is empty" if not head else f"starts with {head!r}"
            raise ConfigurationError(
                f"{option}: {path!r} is not a .npy or .npz file (it {what}; a .npy file starts "
                "with b'\\x93NUMPY', a .npz file is a zip archive); write arrays with "
                "numpy.save / numpy.savez"
            )
        return _read_array(f, size, f"file {path!r}", option, check)


class NpzReader:
    """An .npz archive opened for reading members one at a time (nothing is read up front)."""

    def __init__(self, path: str, option: str) -> None:
        self.path = path
        self.option = option
        f = open_regular(path, option)
        try:
            self._zip = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
            f.close()
            raise ConfigurationError(
                f"{option}: {path!r} is not a readable .npz file ({exc})"
            ) from None
        self._members = {
            info.filename[: -len(".npy")] if info.filename.endswith(".npy") else info.filename: info
            for info in self._zip.infolist()
            if not info.is_dir()
        }

    @property
    def names(self) -> list[str]:
        return list(self._members)

    def read(self, name: str, check: HeaderCheck | None = None) -> np.ndarray:
        info = self._members[name]
        where = f"{self.path!r}[{name!r}]"
        try:
            with self._zip.open(info) as member:
                return _read_array(member, info.file_size, where, self.option, check)
        except TrtExecError:
            raise
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as exc:
            raise ConfigurationError(
                f"{self.option}: {where} is corrupt ({type(exc).__name__}: {exc})"
            ) from None

    def read_all(self, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        return {n: self.read(n) for n in (self.names if names is None else names)}

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
