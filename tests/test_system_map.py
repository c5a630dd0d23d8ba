"""--symbols takes a System.map (nm's `ADDR TYPE NAME` lines, as Linux's build
writes it) as well as an ELF, for a VMID or for EL2 (issue 19)."""

from __future__ import annotations

import os

import pytest

from vizor.cli.main import main
from vizor.machine.board.loader import ImageError, load_image, load_symbols

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HYP = os.path.join(ROOT, "images", "hyp", "hyp.elf")
MINIOS = os.path.join(ROOT, "images", "guests", "minios.elf")

MAP = """\
0000000000000000 A _kernel_size_le_lo32
ffff800008000000 t _head
ffff800008010000 T _stext
ffff800008010040 T do_one_initcall
ffff800008a00000 D init_task
ffff800008c00000 B __bss_start
ffff800008c01000 b printk_count
                 U undefined_here
ffff800008d00000 r __func__.1 [ext4]
"""


def run(capsys, *argv):
    code = main(["run", *argv, "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_data_and_bss_symbols_are_kept_absolute_and_undefined_ones_are_not(tmp_path):
    path = tmp_path / "System.map"
    path.write_text(MAP)
    s = load_symbols(str(path))
    assert s.by_name["do_one_initcall"] == 0xFFFF800008010040 and s.by_name["printk_count"] == 0xFFFF800008C01000
    assert "_kernel_size_le_lo32" not in s.by_name and "undefined_here" not in s.by_name
    assert s.by_name["__func__.1"] == 0xFFFF800008D00000          # a module's symbol: the name before [ext4]
    assert s.format(0xFFFF800008010048) == "0xffff800008010048 <do_one_initcall+0x8>"


def test_a_guests_system_map_names_its_code_in_a_vmid_stop(capsys, tmp_path):
    # minios.elf's symbols written as nm writes them, renamed so that they cannot
    # come from hyp.symbols (which attaches the ELF itself to VMIDs 2 and 3).
    syms = load_image(MINIOS, 2).symbols
    path = tmp_path / "minios.map"
    path.write_text("".join(f"{a:016x} T map_{n}\n" for a, _, n in syms._entries))
    code, out, err = run(capsys, HYP, "--symbols", f"{path}@vmid=3", "--break", "map_schedule@vmid=3",
                         "--max-insns", "50000000")
    assert code == 0, err
    assert "EL1, VMID 3, PC 0xffff000000002ea4 <map_schedule>" in out


@pytest.mark.parametrize("text, message", [
    # Debian's linux-image packages ship this stub instead of the real map.
    ("ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n",
     "neither an ELF file nor a System.map"),
    ("hello world\n", "line 1 is 'hello world'"),
    ("0000000000000000 A only_absolute\n", "no text or data symbols"),
    ("", "no text or data symbols"),
])
def test_a_file_that_is_neither_an_elf_nor_a_map_is_one_line(capsys, tmp_path, text, message):
    path = tmp_path / "bad.map"
    path.write_text(text)
    with pytest.raises(ImageError) as e:
        load_symbols(str(path))
    assert message in str(e.value) and "\n" not in str(e.value)
    code, out, err = run(capsys, HYP, "--symbols", f"{path}@vmid=1", "--max-insns", "1000")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and out == ""
