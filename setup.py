"""Build the optional native accelerator (vizor/machine/cpu/accel.c and fasttrap.c, loaded with ctypes).

Everything else about the package is in pyproject.toml.  ``optional=True``: where no
C compiler exists the build goes on without it and vizor runs its pure-Python path.
"""
import hashlib

from setuptools import Extension, setup

HERE = "vizor/machine/cpu/"
SOURCES = ("accel.h", "fasttrap.h", "accel.c", "fasttrap.c", "systimer.c")   # accel.SOURCES
# The library carries the hash of its sources: accel.py loads no library built from other code.
_h = hashlib.sha256()
for name in SOURCES:
    with open(HERE + name, "rb") as f:
        _h.update(f.read())
DIGEST = _h.hexdigest()[:16]

setup(ext_modules=[Extension("vizor.machine.cpu._accel", sources=[HERE + n for n in ("accel.c", "fasttrap.c", "systimer.c")],
                             depends=[HERE + "accel.h", HERE + "fasttrap.h"], extra_compile_args=["-O2"],
                             define_macros=[("VZ_SOURCE", f'"{DIGEST}"')], optional=True)])
