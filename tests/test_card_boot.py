"""A card booted as the firmware boots it: config.txt (sections, keys, unknown keys
listed), cmdline.txt, the default tree names; a bad card or config is one line."""

from __future__ import annotations

import pytest
from test_firmware_boot import linux_image, tree

from vizor.cli.card import BootFilesError, card_plan
from vizor.cli.mksd import make_sd_image
from vizor.machine.board.config import ConfigError, parse_config


def test_config_sections_keys_and_unknown_keys():
    cfg = parse_config("# c\n[pi4]\nkernel=no.img\n[pi3]\nkernel=k.img\narm_64bit=1\ngpu_mem=16\n"
                       "[all]\ninitramfs rd.gz 0x800000\ndevice_tree_address=0x100\ndtoverlay=x\ngpu_mem=32\n")
    assert cfg.kernel == "k.img" and cfg.arm_64bit and cfg.initramfs == "rd.gz"
    assert cfg.initramfs_address == 0x800000 and cfg.device_tree_address == 0x100
    assert cfg.ignored == ["gpu_mem", "dtoverlay"]
    assert parse_config("initramfs rd followkernel").initramfs_address is None
    with pytest.raises(ConfigError, match="not a number"):
        parse_config("kernel_address=zz")


def card(tmp_path, files: dict[str, bytes]) -> str:
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(str(tmp_path / name))
    out = str(tmp_path / "card.img")
    make_sd_image(out, paths)
    return out


def test_a_linux_card_names_its_kernel_tree_initramfs_and_cmdline(tmp_path):
    img = card(tmp_path, {"kernel8.img": bytes(linux_image().segments[0][1]), "bcm2837-rpi-3-b.dtb": tree(),
                          "rd.gz": b"\x1f\x8b" + bytes(100), "cmdline.txt": b"console=ttyAMA0 rw\n",
                          "config.txt": b"arm_64bit=1\ninitramfs rd.gz followkernel\nhdmi_safe=1\n"})
    plan = card_plan(img, 2)
    assert plan.kernel.path.endswith("kernel8.img") and plan.dtb_name == "bcm2837-rpi-3-b.dtb"
    assert plan.cmdline == "console=ttyAMA0 rw" and plan.initrd[:2] == b"\x1f\x8b"
    assert "ignored: hdmi_safe" in plan.notes


def test_kernel_old_and_disable_commandline_tags_boot_at_el3_with_no_tree(tmp_path):
    img = card(tmp_path, {"kernel8.img": bytes(linux_image().segments[0][1]), "bcm2710-rpi-3-b.dtb": tree(),
                          "config.txt": b"kernel_old=1\ndisable_commandline_tags=1\n"})
    plan = card_plan(img, 2)
    assert plan.boot_el == 3 and plan.kernel.low == 0 and plan.dtb is None


@pytest.mark.parametrize("files, message", [
    ({"config.txt": b"kernel=missing.img\n"}, "no missing.img"),
    ({"config.txt": b"kernel_address=0xzz\n", "kernel8.img": b"x"}, "not a number"),
    ({"config.txt": b"initramfs gone.gz\n", "kernel8.img": bytes(linux_image().segments[0][1])}, "not on the card"),
])
def test_a_bad_card_is_one_line(tmp_path, files, message):
    with pytest.raises(BootFilesError, match=message) as e:
        card_plan(card(tmp_path, files), 2)
    assert "\n" not in str(e.value)


def test_a_file_that_is_no_card_is_one_line(tmp_path):
    bad = tmp_path / "x.img"
    bad.write_bytes(bytes(4096))
    with pytest.raises(BootFilesError, match="not a card image"):
        card_plan(str(bad), 2)


def test_a_kernel_behind_an_armstub_keeps_its_bss_clear_of_the_initramfs(tmp_path):
    # The firmware places a Linux Image as without a stub (0x200000 + text_offset)
    # and the initramfs after its image_size (BSS included), not after its file:
    # Linux clears its BSS before it unpacks the initramfs.
    from vizor.machine.board.firmware import place
    kernel = bytes(linux_image(size=0x3000, image_size=0x10000).segments[0][1])
    stub = (0xD503205F).to_bytes(4, "little") * 0x3C + (0x5AFE570B).to_bytes(4, "little") + bytes(12)
    img = card(tmp_path, {"kernel8.img": kernel, "armstub8.bin": stub, "rd.gz": b"\x1f\x8b" + bytes(100),
                          "config.txt": b"armstub=armstub8.bin\ninitramfs rd.gz followkernel\n"})
    plan = card_plan(img, 2)
    placement = place(plan)
    assert plan.boot_el == 3 and plan.extra[0][0] == 0x200000
    assert placement.initrd_at[0] == 0x200000 + 0x10000
