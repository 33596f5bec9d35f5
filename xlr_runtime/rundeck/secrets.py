"""Secure option values at rest: the shared :class:`~xlr_runtime.secrets.SecretBox` (key ``secret.key`` in the
home, mode 0600), kept importable from here for the Rundeck modules."""

from __future__ import annotations

from xlr_runtime.secrets import KEY_FILE, SEALED, SecretBox

__all__ = ["KEY_FILE", "SEALED", "SecretBox"]
