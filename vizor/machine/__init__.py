"""The emulated board, a library that imports nothing above it, in layers (each imports
only the ones before it): ``arch`` (pure AArch64), ``clock`` (virtual time),
``devices`` (BCM2837 blocks), ``cpu`` (a core on Unicorn), ``inspect`` (snapshots,
symbols, reports), ``board`` (the Pi 3 as a whole), ``debug`` (stop conditions,
stepping), ``session`` (recording, checkpoints, replay)."""
