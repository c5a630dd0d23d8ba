"""A small initramfs for the Linux boot tests (issue 19): busybox and an /init
that prints a marker, the uptime and the online CPUs, then an end marker.

    data = initramfs(busybox_bytes)        # an uncompressed cpio archive, newc format

The archive is written here, in the kernel's "newc" cpio format
(Documentation/driver-api/early-userspace/buffer-format.rst): per entry a
110-byte ASCII header ("070701" and thirteen 8-digit hex fields), the name with
its NUL, padding to 4 bytes, the data, padding to 4 bytes; a "TRAILER!!!"
entry ends it.  Writing it ourselves lets /dev/console be a device node
without root.  It is left uncompressed: the kernel unpacks it without
inflating anything, which is quicker on an emulated CPU.
"""

from __future__ import annotations

MARKER = "VIZOR-LINUX-SHELL"
END_MARKER = "VIZOR-DONE"

INIT = f"""#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
echo {MARKER}
echo uptime: $(/bin/busybox cat /proc/uptime)
echo online: $(/bin/busybox cat /sys/devices/system/cpu/online)
echo {END_MARKER}
/bin/busybox poweroff -f
"""

S_IFDIR, S_IFREG, S_IFCHR = 0o040000, 0o100000, 0o020000


def _entry(ino: int, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> bytes:
    raw = name.encode() + b"\0"
    nlink = 2 if mode & S_IFDIR else 1
    fields = (ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(raw), 0)
    head = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = head + raw
    out += bytes(-len(out) % 4)
    return out + data + bytes(-len(data) % 4)


def cpio_newc(entries: list[tuple[str, int, bytes, tuple[int, int]]]) -> bytes:
    """A newc archive of (name, mode, data, (rdev major, minor)) entries, in order."""
    parts = [_entry(i + 1, name, mode, data, rdev) for i, (name, mode, data, rdev) in enumerate(entries)]
    parts.append(_entry(0, "TRAILER!!!", 0))
    return b"".join(parts)


def initramfs(busybox: bytes, init: str = INIT) -> bytes:
    """The test initramfs: /init (busybox sh), /bin/busybox, /dev/console, /proc, /sys."""
    none = (0, 0)
    return cpio_newc([
        ("bin", S_IFDIR | 0o755, b"", none),
        ("bin/busybox", S_IFREG | 0o755, busybox, none),
        ("dev", S_IFDIR | 0o755, b"", none),
        ("dev/console", S_IFCHR | 0o600, b"", (5, 1)),
        ("proc", S_IFDIR | 0o755, b"", none),
        ("sys", S_IFDIR | 0o755, b"", none),
        ("init", S_IFREG | 0o755, init.encode(), none),
    ])
