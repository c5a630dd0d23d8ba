"""Security state (TrustZone) as pure functions of register values and walks.

The Arm ARM (ARMv8.0, what the Cortex-A53 implements):
- EL3 is always Secure.  Below EL3 a core is Secure when SCR_EL3.NS is 0 and
  Non-secure when it is 1; the A53 has no Secure EL2, so EL2 exists only in
  Non-secure state (an ERET to EL2 with NS = 0 is an illegal return).
- A Secure stage-1 regime (EL3, Secure EL1&0) starts every table walk in the
  Secure physical address space.  NSTable = 1 in a table descriptor makes every
  later lookup of that walk Non-secure, and the NS bit of every later
  descriptor is then ignored (the output is Non-secure).  Otherwise the NS bit
  of the block or page descriptor says which space the output address is in.
  With stage 1 off a Secure regime's accesses are Secure.
- A Non-secure regime (Non-secure EL1&0, EL2, stage 2) ignores NSTable and NS:
  every access, table reads included, is Non-secure.

The BCM2837 has no TrustZone address-space controller: both spaces reach the
same RAM and peripherals, so these functions say what the core *asks for*,
never what memory it reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

SCR_NS = 1 << 0

SECURE_REGIMES = ("el3", "sel10")


def is_secure(el: int, scr_el3: int) -> bool:
    """Whether a core at ``el`` is in Secure state (EL3 always is)."""
    return el == 3 or not scr_el3 & SCR_NS


def world_name(secure: bool) -> str:
    return "Secure" if secure else "Non-secure"


def world_label(el: int, scr_el3: int) -> str:
    """``EL3``, ``EL2 (NS)``, ``S-EL1``, ``NS-EL1``, ``S-EL0``, ``NS-EL0``."""
    if el == 3:
        return "EL3"
    secure = is_secure(el, scr_el3)
    if el == 2:
        return "EL2 (S)" if secure else "EL2 (NS)"
    return f"{'S' if secure else 'NS'}-EL{el}"


def world_of_pstate(pstate: int, scr_el3: int) -> str:
    return world_label((pstate >> 2) & 3, scr_el3)


@dataclass(frozen=True)
class WalkSecurity:
    """Which physical address space each access of a stage-1 walk used."""

    secure_regime: bool
    lookups: tuple[bool, ...]        # per step: the descriptor read was Secure
    output: Optional[bool]           # the output address is Secure (None: no output)
    ns_table_level: Optional[int]    # the level whose NSTable = 1 made the rest Non-secure

    def text(self) -> str:
        if self.output is None:
            return "no output address"
        how = world_name(self.output)
        if not self.secure_regime:
            return f"{how} (a Non-secure regime: NSTable and NS are ignored)"
        if self.ns_table_level is not None:
            return f"{how} (NSTable = 1 at level {self.ns_table_level})"
        return f"{how} (NS = {0 if self.output else 1} in the leaf)" if self.lookups else f"{how} (MMU off)"


def walk_security(walk, secure_regime: bool) -> WalkSecurity:
    """The security of every lookup of a stage-1 ``walk`` and of its output.

    ``walk`` is a ``mmu.Walk`` of stage 1 (its steps carry ``ns_table`` and ``ns``)."""
    secure = secure_regime
    lookups, ns_level = [], None
    for st in walk.steps:
        lookups.append(secure)
        if st.kind == "table" and secure and st.ns_table:
            secure, ns_level = False, st.level
        elif st.kind in ("block", "page") and secure and st.ns:
            secure = False
    output = None if walk.fault is not None else secure
    return WalkSecurity(secure_regime, tuple(lookups), output, ns_level)


def label_of(el: int, secure: bool) -> str:
    """``world_label`` from a known security state instead of SCR_EL3."""
    return world_label(el, 0 if secure else SCR_NS)


@dataclass(frozen=True)
class WorldSwitch:
    """A core entered the other security state by an exception return from EL3.

    ``from_el`` is the EL it entered EL3 from (None: it was at EL3 since reset,
    or since the debugger started); ``cycles`` the virtual time of its first
    instruction in the new world, at ``pc``."""

    core: int
    cycles: int
    from_el: Optional[int]
    from_secure: bool
    to_el: int
    to_secure: bool
    pc: int

    @property
    def from_label(self) -> str:
        return "EL3" if self.from_el is None else label_of(self.from_el, self.from_secure)

    @property
    def to_label(self) -> str:
        return label_of(self.to_el, self.to_secure)

    def path(self, arrow: str = "->") -> str:
        """``NS-EL1 -> EL3 -> S-EL1`` (``EL3 -> EL2 (NS)`` when it came from EL3 itself)."""
        hops = ([] if self.from_el is None else [self.from_label]) + ["EL3", self.to_label]
        return f" {arrow} ".join(hops)

    def text(self) -> str:
        return (f"world switch: core {self.core} {self.path()} "
                f"(now {world_name(self.to_secure)}), PC {self.pc:#x}")
