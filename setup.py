"""Build the optional native accelerator (vizor/machine/cpu/accel.c, loaded with ctypes).

Everything else about the package is in pyproject.toml.  ``optional=True``: where no
C compiler exists the build goes on without it and vizor runs its pure-Python path.
"""
import hashlib

from setuptools import Extension, setup

SOURCE = "vizor/machine/cpu/accel.c"
# The library carries the hash of its source: accel.py loads no library built from other code.
with open(SOURCE, "rb") as f:
    DIGEST = hashlib.sha256(f.read()).hexdigest()[:16]

setup(ext_modules=[Extension("vizor.machine.cpu._accel", sources=[SOURCE], extra_compile_args=["-O2"],
                             define_macros=[("VZ_SOURCE", f'"{DIGEST}"')], optional=True)])
