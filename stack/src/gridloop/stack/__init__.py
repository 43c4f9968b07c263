"""The embedded stack: real servers that install from PyPI, for development, demos and tests."""
