"""Booting as the firmware does (issue 19): the device tree patched with libfdt,
the kernel, initramfs and tree placed, x0 = the tree; bad boot files are one line."""

from __future__ import annotations

import libfdt
import pytest

from vizor.cli.main import main
from vizor.machine.board.board import Board
from vizor.machine.board.devicetree import DeviceTreeError, patch_dtb, read_bootargs
from vizor.machine.board.firmware import ARM_MEMORY_TOP, BootError, BootPlan, place
from vizor.machine.board.loader import Image
from vizor.machine.inspect.symbols import Symbols


def tree() -> bytes:
    """A small tree shaped like the Pi's: #address-cells/#size-cells 1, memory@0, no /chosen."""
    sw = libfdt.FdtSw()
    sw.finish_reservemap()
    with sw.add_node(""):
        sw.property_u32("#address-cells", 1)
        sw.property_u32("#size-cells", 1)
        with sw.add_node("memory@0"):
            sw.property_string("device_type", "memory")
            sw.property("reg", bytes(8))
    return bytes(sw.as_fdt().as_bytearray())


def linux_image(path: str = "Image", size: int = 0x3000, image_size: int = 0x10000) -> Image:
    """A raw image with the arm64 boot header (text_offset 0, image_size, magic)."""
    head = bytearray(size)
    head[0:4] = (0x14000010).to_bytes(4, "little")          # b +0x40
    head[16:24] = image_size.to_bytes(8, "little")
    head[56:60] = b"ARM\x64"
    return Image(path, "raw", [(0x80000, bytes(head), size)], 0x80000, Symbols())


def test_chosen_and_memory_are_patched_as_the_firmware_does():
    out = patch_dtb(tree(), bootargs="console=ttyAMA0 quiet", initrd=(0x300000, 0x340000),
                    memory_top=ARM_MEMORY_TOP)
    fdt = libfdt.Fdt(out)
    chosen = fdt.path_offset("/chosen")
    assert read_bootargs(out) == "console=ttyAMA0 quiet"
    assert fdt.getprop(chosen, "linux,initrd-start").as_uint32() == 0x300000
    assert fdt.getprop(chosen, "linux,initrd-end").as_uint32() == 0x340000
    assert bytes(fdt.getprop(fdt.path_offset("/memory@0"), "reg")) == bytes(4) + ARM_MEMORY_TOP.to_bytes(4, "big")


@pytest.mark.parametrize("blob", [b"", b"\xd0\x0d\xfe\xed" + bytes(60), b"hello world" * 10])
def test_a_corrupt_tree_is_one_line(blob):
    with pytest.raises(DeviceTreeError) as e:
        patch_dtb(blob, bootargs="x", initrd=None, memory_top=ARM_MEMORY_TOP, what="t.dtb")
    assert str(e.value).startswith("t.dtb: ") and "\n" not in str(e.value)


def test_a_linux_image_goes_at_2mib_then_initrd_after_its_bss_then_the_tree():
    plan = BootPlan(linux_image(), dtb=tree(), initrd=b"\x07" * 5000, cmdline="rw")
    p = place(plan)
    assert plan.kernel.low == 0x200000 and plan.kernel.entry == 0x200000
    assert p.initrd_at == (0x210000, 0x210000 + 5000)            # after image_size, not the file
    assert p.dtb_at == 0x212000 and p.x0 == p.dtb_at
    board = Board()
    board.load(plan.kernel, blobs=p.blobs, x0=p.x0)
    assert board.cores[0].regs.x(0) == p.dtb_at and board.cores[0].pc == 0x200000
    assert read_bootargs(board.read_ram(p.dtb_at, 4096)) == "rw"
    assert board.read_ram(0x210000, 4) == b"\x07" * 4


def test_explicit_addresses_are_honoured_and_overlaps_refused():
    plan = BootPlan(linux_image(), kernel_address=0x80000, dtb=tree(), dtb_address=0x1000000,
                    initrd=b"x" * 100, initrd_address=0x2000000)
    p = place(plan)
    assert plan.kernel.low == 0x80000 and p.dtb_at == 0x1000000 and p.initrd_at[0] == 0x2000000
    with pytest.raises(BootError, match="overlap"):
        place(BootPlan(linux_image(), initrd=b"x" * 100, initrd_address=0x200800))
    with pytest.raises(BootError, match="do not fit"):
        place(BootPlan(linux_image(), initrd=b"x" * 100, initrd_address=ARM_MEMORY_TOP - 10))


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_bad_boot_files_on_the_command_line_are_one_line(tmp_path, capsys):
    img = tmp_path / "Image"
    img.write_bytes(bytes(linux_image().segments[0][1]))
    bad = tmp_path / "bad.dtb"
    bad.write_bytes(b"\xd0\x0d\xfe\xed" + bytes(100))
    good = tmp_path / "good.dtb"
    good.write_bytes(tree())
    assert "no such file" in one_line_error(capsys, ["run", str(img), "--dtb", str(tmp_path / "none.dtb")])
    assert "corrupt device tree" in one_line_error(capsys, ["run", str(img), "--dtb", str(bad)])
    assert "--dtb" in one_line_error(capsys, ["run", str(img), "--append", "x"])
    assert "directory" in one_line_error(capsys, ["run", str(img), "--dtb", str(good), "--initrd", str(tmp_path)])
    assert "IMAGE" in one_line_error(capsys, ["run"])


def test_a_direct_boot_prints_its_choices_in_one_line(tmp_path, capsys):
    img = tmp_path / "Image"
    img.write_bytes(bytes(linux_image().segments[0][1]))
    dtb = tmp_path / "pi.dtb"
    dtb.write_bytes(tree())
    assert main(["run", str(img), "--dtb", str(dtb), "--append", "console=ttyAMA0", "--max-insns", "100",
                 "--quiet"]) == 0
    err = capsys.readouterr().err
    line = [ln for ln in err.splitlines() if ln.startswith("vizor: boot:")]
    assert len(line) == 1 and "at 0x200000" in line[0] and "console=ttyAMA0" in line[0]
