"""The run states of a core (``Core.state``)."""

RUNNING, WFI_IDLE, PARKED, HALTED = "running", "wfi", "parked", "halted"
