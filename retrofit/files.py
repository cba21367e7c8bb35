"""Files written for the user: the output path checked before any work, and every file written
whole or not at all.

A file is written to a temporary file in the same folder and renamed over the target
(os.replace is atomic within one file system), so a reader sees the old file or the new one,
never a partial one, and a failed write (a full disk) leaves the old file as it was.
"""
import os
import tempfile
from pathlib import Path


class OutputPathError(ValueError):
    """An output path that cannot be written; the message says why, in Chinese."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Permissions a plain open() would give a new file; mkstemp's 0600 would hide exports from others.
NEW_FILE_MODE = 0o666 & ~_umask()


def check_output_path(path: str | Path) -> Path:
    """The path, once it is known that a file can be written there: its folder exists and takes
    a new file (tried, not guessed from permission bits: /proc looks writable to root), and the
    path is not a folder or a device. OutputPathError otherwise."""
    target = Path(path)
    if target.is_dir():
        raise OutputPathError(f"“{path}”是一个文件夹,请给出文件名,例如 {Path(path) / '汇报材料.pptx'}")
    if target.exists() and not target.is_file():
        raise OutputPathError(f"“{path}”不是普通文件(设备或管道),无法写入,请换一个文件名")
    folder = target.absolute().parent
    if not folder.is_dir():
        raise OutputPathError(f"输出文件夹“{folder}”不存在,请先创建或换一个路径")
    try:
        descriptor, probe = tempfile.mkstemp(dir=folder, prefix=".写入测试-", suffix=".tmp")
    except OSError as error:
        raise OutputPathError(f"无法在文件夹“{folder}”中写入文件({error.strerror or error}),"
                              f"请换一个有写权限的文件夹") from None
    os.close(descriptor)
    os.unlink(probe)
    return target


def write_atomically(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (see the module docstring). An existing file
    keeps its permissions. OSError when the write fails; the old file is then untouched and no
    temporary file is left behind."""
    target = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=target.absolute().parent, prefix=f".{target.name}.",
                                             suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, target.stat().st_mode & 0o7777 if target.exists() else NEW_FILE_MODE)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
