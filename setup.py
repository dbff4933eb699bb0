# A shim for tools that still run setup.py; all metadata lives in pyproject.toml (built by flit_core).
from setuptools import setup

setup()
