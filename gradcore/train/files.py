"""Crash-safe file operations for checkpoints (docs/checkpoint_format.md, "Crash safety").

A file is never written under its final name. It is written in a private
temporary folder in the same directory, flushed to disk, renamed over the final name
(``os.replace``, atomic on POSIX and Windows) and the directory is flushed so
the rename itself survives a power cut. A process killed at any instant
therefore leaves either the old file or the new one under the final name, and
at worst a temporary folder beside it (``.{name}.tmp-{random}``), which readers
never look at and the next write of the same final name removes.
"""

import contextlib
import errno
import os
import secrets
import shutil
import stat

# Flags that exist only on some systems: 0 elsewhere, so the open still works there.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)


class NotARegularFileError(OSError):
    """A symlink, directory, FIFO or device where a regular file was expected."""


def temporary_prefix(final_path):
    """What the names of ``final_path``'s temporary folders start with: hidden, in the same directory."""
    directory, name = os.path.split(final_path)
    return os.path.join(directory, f".{name}.tmp-")


def remove_stale_temporaries(final_path):
    """Delete the temporary folders a killed write of ``final_path`` left behind."""
    directory, start = os.path.split(temporary_prefix(final_path))
    try:
        names = [name for name in os.listdir(directory or ".") if name.startswith(start)]
    except FileNotFoundError:
        return
    for name in names:
        shutil.rmtree(os.path.join(directory, name), ignore_errors=True)


def fsync_directory(directory):
    """Flush a directory's entries (renames, new and deleted names) to disk."""
    if os.name == "nt":  # Windows cannot open a directory; NTFS journals renames itself
        return
    fd = os.open(directory or ".", os.O_RDONLY | _CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path):
    """Flush a file's data to disk, whoever wrote it (fsync acts on the file, not on one descriptor)."""
    fd = os.open(path, os.O_RDONLY | _CLOEXEC | _BINARY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def new_file_mode(folder):
    """The permissions a file created in ``folder`` gets (the umask and default ACLs applied), by trying.

    Reading the umask would mean setting it, which races with other threads.
    """
    probe = os.path.join(folder, ".mode-probe")
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, 0o666)
    try:
        return stat.S_IMODE(os.fstat(fd).st_mode)
    finally:
        os.close(fd)
        os.unlink(probe)


@contextlib.contextmanager
def atomic_file(final_path):
    """Yield a temporary path; on success, flush that file and rename it to ``final_path`` durably.

    The path lies in a fresh private folder beside ``final_path``, so whatever
    the body's writer leaves there (safetensors writes through a temporary file
    of its own) is removed with the folder, and a killed write leaves one
    recognisable folder. If the body raises, ``final_path`` is untouched.
    """
    folder = temporary_prefix(final_path) + secrets.token_hex(8)
    os.mkdir(folder, 0o700)  # fails if the name is taken: two writers never share a folder
    try:
        temporary = os.path.join(folder, os.path.basename(final_path))
        yield temporary
        # safetensors creates its files 0600; a checkpoint gets the permissions any new file gets here.
        os.chmod(temporary, new_file_mode(folder))
        fsync_file(temporary)
        os.replace(temporary, final_path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    fsync_directory(os.path.dirname(final_path))


def atomic_write_bytes(path, data):
    """Replace the file at ``path`` by ``data`` so that a crash leaves the old or the new file, whole."""
    path = os.fspath(path)
    remove_stale_temporaries(path)
    with atomic_file(path) as temporary, open(temporary, "wb") as f:
        f.write(data)


def atomic_write_text(path, text):
    """Replace the text file at ``path`` (UTF-8) so that a crash leaves the old or the new one, whole."""
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_durably(path):
    """Delete ``path`` and flush its directory; True if it existed."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    fsync_directory(os.path.dirname(path))
    return True


def open_regular_file(path):
    """An unbuffered binary reader of ``path``, refusing symlinks and anything but a regular file.

    FileNotFoundError if nothing is there; NotARegularFileError for a symlink,
    directory, FIFO or device. O_NONBLOCK keeps a FIFO from blocking the open.
    """
    if os.path.islink(path):
        raise NotARegularFileError(f"{path} is a symbolic link")
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC | _BINARY)
    except FileNotFoundError:
        raise
    except OSError as error:
        if error.errno == errno.ELOOP:  # it became a symlink since the check above (O_NOFOLLOW)
            raise NotARegularFileError(f"{path} is a symbolic link") from error
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotARegularFileError(f"{path} is not a regular file (mode {stat.filemode(mode)})")
    if _NONBLOCK:
        os.set_blocking(fd, True)
    return open(fd, "rb", buffering=0)
