"""Stop conditions set by an address that must be translated now (a mixin of ``Debugger``):
a breakpoint by PA or IPA becomes breakpoints at every VA that maps it, a
watchpoint by VA watches the PA it translates to.  The mapping is the one in
force when the condition is set."""

from __future__ import annotations

from vizor.machine.debug.stops import Breakpoint, Condition, Filters


class Addresses:
    def add_physical_breakpoint(self, address: int, space: str, *, vmid: int | None = None,
                                el: int | None = None, core: int | None = None, world: str | None = None,
                                condition: str | Condition | None = None, ignore: int = 0) -> list[Breakpoint]:
        """Breakpoints at every VA that maps to a PA or (with a VMID) an IPA.

        With a VMID, the VM's stage 2 (PA -> IPA) and stage 1 (IPA -> VA) are
        read backwards on a core that runs that VM now; without, the
        hypervisor's EL2 tables.  The mapping is the one in force now."""
        from vizor.machine.arch.revmap import (
            RevmapError,
            el2_vas_for_pa,
            ipas_for_pa,
            vas_for_ipa,
        )
        from vizor.machine.cpu.faults import translation_regs
        if space not in ("pa", "ipa"):
            raise ValueError(f"unknown address space {space!r}")
        Filters(vmid, el, core, world).check(len(self.board.cores))
        read = self.board.read_phys
        try:
            if vmid is None:
                if space == "ipa":
                    raise ValueError("an IPA is a guest's address: name the VM with a VMID filter")
                host = self.board.cores[core if core is not None else 0]
                vas = el2_vas_for_pa(translation_regs(host), read, address)
                el = 2 if el is None else el
            else:
                host = next((c for c in self.board.cores if c.vmid() == vmid), None)
                if host is None:
                    raise ValueError(f"VMID {vmid} is not running on any core now; stop where it runs "
                                     f"(e.g. run until VMID {vmid} is scheduled) and set the breakpoint there")
                regs = translation_regs(host)
                ipas = ipas_for_pa(regs, read, address) if space == "pa" else [address]
                vas = sorted({va for ipa in ipas for va in vas_for_ipa(regs, read, ipa)})
        except RevmapError as e:
            raise ValueError(str(e)) from None
        if not vas:
            where = f"VMID {vmid}" if vmid is not None else "the EL2 tables"
            raise ValueError(f"{space.upper()} {address:#x} is not mapped by {where}")
        return [self.add_breakpoint(va, vmid=vmid, el=el, core=core, condition=condition, ignore=ignore,
                                    world=world) for va in vas]

    def _translate(self, va: int, core_index: int) -> int:
        from vizor.machine.arch.mmu import translate_el10, walk_stage1
        from vizor.machine.cpu.faults import translation_regs
        if core_index not in range(len(self.board.cores)):
            raise ValueError(f"there is no core {core_index}")
        core = self.board.cores[core_index]
        el, regs, read = core.el, translation_regs(core), self.board.read_phys
        walk = walk_stage1(va, regs, read, "el2", "r", 2) if el >= 2 else translate_el10(va, regs, read, "r", el)
        if walk.fault is not None or walk.output is None:
            raise ValueError(f"VA {va:#x} does not translate on core {core_index} (EL{el}): "
                             f"{walk.fault.kind if walk.fault else 'no output'} fault")
        return walk.output
