"""The bare-metal images vizor ships (built ELFs; sources beside them)."""
