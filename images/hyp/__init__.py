"""The vizor demo hypervisor: hyp.elf (four cores, three VMs; see images/README.md)."""
