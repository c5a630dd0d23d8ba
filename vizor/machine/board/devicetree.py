"""The device tree as the Pi firmware hands it over: /chosen and /memory patched.

The firmware fills in ``/chosen/bootargs`` (cmdline.txt), ``linux,initrd-start``
and ``linux,initrd-end`` (where it put the initramfs), and the ``reg`` of the
memory node (the ARM's share of the RAM, below the GPU's).  The tree is read
and written with libfdt (dtc's library, through its Python binding
``pylibfdt``); every problem with the blob is a ``DeviceTreeError`` with one
line for the user.
"""

from __future__ import annotations

import libfdt

FDT_MAGIC = b"\xd0\x0d\xfe\xed"


class DeviceTreeError(Exception):
    """The device tree cannot be used; the message is meant for the user."""


def patch_dtb(blob: bytes, *, bootargs: str | None, initrd: tuple[int, int] | None,
              memory_top: int, what: str = "device tree") -> bytes:
    """``blob`` with /chosen and /memory set as the firmware sets them."""
    if blob[:4] != FDT_MAGIC:
        raise DeviceTreeError(f"{what}: not a flattened device tree (no d00dfeed magic)")
    try:
        fdt = libfdt.Fdt(bytearray(blob))
        extra = 1024 + (len(bootargs.encode()) if bootargs else 0)
        fdt.resize(fdt.totalsize() + extra)
        chosen = _node(fdt, "chosen")
        if bootargs is not None:
            fdt.setprop_str(chosen, "bootargs", bootargs)
        if initrd is not None:
            fdt.setprop_u32(chosen, "linux,initrd-start", initrd[0])
            fdt.setprop_u32(chosen, "linux,initrd-end", initrd[1])
        _set_memory(fdt, memory_top)
        fdt.pack()
        return bytes(fdt.as_bytearray())
    except libfdt.FdtException as e:
        raise DeviceTreeError(f"{what}: corrupt device tree ({e})") from None
    except (ValueError, UnicodeError) as e:
        raise DeviceTreeError(f"{what}: cannot patch ({e})") from None


def _node(fdt, name: str) -> int:
    off = fdt.subnode_offset(0, name, libfdt.QUIET_NOTFOUND)
    if off < 0:
        off = fdt.add_subnode(0, name)
    return off


def _cells(fdt, name: str, default: int) -> int:
    prop = fdt.getprop(0, name, libfdt.QUIET_NOTFOUND)
    if not isinstance(prop, libfdt.Property) or len(prop) != 4:
        return default
    return prop.as_uint32()


def _memory_node(fdt) -> int:
    """The node with device_type = "memory" (memory@0 on the Pi's trees), or a new /memory."""
    off = fdt.first_subnode(0, libfdt.QUIET_NOTFOUND)
    while off >= 0:
        prop = fdt.getprop(off, "device_type", libfdt.QUIET_NOTFOUND)
        if isinstance(prop, libfdt.Property) and bytes(prop).rstrip(b"\0") == b"memory":
            return off
        off = fdt.next_subnode(off, libfdt.QUIET_NOTFOUND)
    off = fdt.add_subnode(0, "memory")
    fdt.setprop_str(off, "device_type", "memory")
    return off


def _set_memory(fdt, top: int) -> None:
    acells, scells = _cells(fdt, "#address-cells", 2), _cells(fdt, "#size-cells", 1)
    if acells not in (1, 2) or scells not in (1, 2):
        raise DeviceTreeError(f"#address-cells {acells} / #size-cells {scells}: not a tree for this board")
    reg = (0).to_bytes(4 * acells, "big") + top.to_bytes(4 * scells, "big")
    fdt.setprop(_memory_node(fdt), "reg", reg)


def read_bootargs(blob: bytes) -> str | None:
    """/chosen/bootargs of a tree (tests, and what the card's choices line shows)."""
    fdt = libfdt.Fdt(bytearray(blob))
    chosen = fdt.subnode_offset(0, "chosen", libfdt.QUIET_NOTFOUND)
    if chosen < 0:
        return None
    prop = fdt.getprop(chosen, "bootargs", libfdt.QUIET_NOTFOUND)
    return prop.as_str() if isinstance(prop, libfdt.Property) else None
