"""Modules that stand in for the Java and Jython modules real plugin scripts import.

Each is served under the name scripts use by :mod:`xlr_runtime.compat.imports` (see its ``SHIMS`` table).
They cover what public XL Release plugins call, not whole Java APIs.
"""
