"""Compatibility with real XL Release plugins written for Jython 2.7: translation and import shims."""
