"""The conformance kernels of images/tests on vizor, against the architecture
(the .expected files) and against QEMU's raspi3b running the same ELF."""

from __future__ import annotations

import pytest
from conformance import (
    INPUTS,
    KERNELS,
    VIZOR_GAPS,
    check_name,
    image,
    run_vizor,
    run_vizor_uarts,
    without,
)
from qemu_runner import (
    QEMU_DEVIATIONS,
    qemu_available,
    run_qemu_uarts,
    strip_entry_dependent,
)

# smp_spinlock once "lost increments" on QEMU: core 0 stopped waiting for the
# other cores after a fixed number of polls, i.e. after a host-time-dependent
# while; its wait is now bounded by the system counter (2 s).
QEMU_KERNELS = KERNELS

requires_qemu = pytest.mark.skipif(not qemu_available(),
                                   reason="qemu-system-aarch64 is not installed (CI installs it)")


def expected_lines(name: str, boot_el: int) -> list[str]:
    with open(image(name).replace(".elf", ".expected")) as f:
        text = f.read()
    if boot_el == 2:
        text = strip_entry_dependent(text)
    return text.splitlines()


def qemu_text(name: str) -> dict[str, str]:
    """QEMU's output on both UARTs, with the kernel's INPUTS typed in."""
    inputs = INPUTS.get(name, {})
    res = run_qemu_uarts(image(name), timeout=60, pl011_input=inputs.get("pl011", b""),
                         mini_input=inputs.get("mini"))
    assert res is not None and "DONE" in res["pl011"], f"QEMU did not finish {name}"
    return res


def vizor_lines(name: str, boot_el: int) -> list[str]:
    out, reason, board = run_vizor(name, boot_el)
    assert reason.kind == "stop", f"{name} did not finish: {reason}"
    if boot_el == 2:
        out = strip_entry_dependent(out)
    return out.splitlines()


@pytest.mark.parametrize("boot_el", [2, 3])
@pytest.mark.parametrize("name", KERNELS)
def test_vizor_output_is_the_architectural_one(name, boot_el):
    gaps = VIZOR_GAPS.get(name, {})
    assert without(vizor_lines(name, boot_el), gaps) == without(expected_lines(name, boot_el), gaps)


@requires_qemu
@pytest.mark.parametrize("name", QEMU_KERNELS)
def test_vizor_matches_qemu_on_the_same_elf(name):
    # QEMU's -kernel x.elf starts every core at the entry at EL3: vizor's --boot-el 3.
    qemu = qemu_text(name)["pl011"]
    skip = tuple(VIZOR_GAPS.get(name, {})) + QEMU_DEVIATIONS.get(name, ())
    assert without(vizor_lines(name, 3), skip) == without(qemu.splitlines(), skip)


@requires_qemu
@pytest.mark.parametrize("name", QEMU_KERNELS)
def test_qemu_departs_from_the_architecture_only_where_listed(name):
    qemu = qemu_text(name)["pl011"]
    exp = expected_lines(name, 3)
    differing = {check_name(a) for a, b in zip(qemu.splitlines(), exp) if a != b}
    listed = QEMU_DEVIATIONS.get(name, ())
    for d in differing:
        assert d is not None and any(d.startswith(c) for c in listed), f"unlisted QEMU difference: {d}"


GAP_CASES = [(k, c) for k, checks in VIZOR_GAPS.items() for c in checks]


@pytest.mark.parametrize("name,check", GAP_CASES)
@pytest.mark.xfail(strict=True, reason="known vizor gap (see conformance.VIZOR_GAPS)")
def test_known_vizor_gaps(name, check):
    got = [line for line in vizor_lines(name, 2) if (check_name(line) or "").startswith(check + " ")]
    exp = [line for line in expected_lines(name, 2) if (check_name(line) or "").startswith(check + " ")]
    assert got == exp


def test_spinlock_counts_every_increment_on_four_cores():
    lines = vizor_lines("smp_spinlock.elf", 2)
    assert "ok total 400000" in lines
    assert sum(1 for line in lines if line.startswith("ok core")) == 4


def mini_expected() -> str:
    with open(image("uart_rx.mini.expected")) as f:
        return f.read()


@pytest.mark.parametrize("boot_el", [2, 3])
def test_mini_uart_echoes_its_input_on_vizor(boot_el):
    texts, reason, _board = run_vizor_uarts("uart_rx.elf", boot_el)
    assert reason.kind == "stop"
    assert texts["mini"] == mini_expected()
    assert "mini input 456" not in texts["pl011"].replace('text="mini input 456"', "")


@requires_qemu
def test_mini_uart_echo_matches_qemu():
    assert qemu_text("uart_rx.elf")["mini"] == mini_expected()


def test_uart_rx_without_input_fails_instead_of_hanging():
    out, reason, _board = run_vizor("uart_rx.elf", 2, inputs={})
    assert reason.kind == "stop"
    assert "FAIL pl011_polled" in out and "FAIL mini_rx_irq done=0" in out
