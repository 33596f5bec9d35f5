"""What a secret is shown as wherever it would appear: :data:`MASK`.

A module of its own at the foundation, so every layer that shows a value (a type's password default, a URL's
password in ``xlr config``, a script run's log) masks with the same text without importing the masking machinery
of :mod:`xlr_runtime.scripting.masking`.
"""

#: What a secret is replaced with.
MASK = "********"
