"""The forms a secret could leak in (quoted, JSON-escaped, base64, inside a Basic header), for canary tests."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, quote_plus


def leaked_forms(secret: str, user: str) -> list[str]:
    """Every form of ``secret`` that masking promises never to show (``user`` pairs it in a Basic header)."""
    return [
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote(secret, safe=":/?&=%"),  # HttpRequest's URL
        quote(secret, safe="!#$%&'()*+,/:;=?@[]~"),  # requests' requote_uri
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        base64.b64encode(secret.encode()).decode(),
        base64.b64encode(f"{user}:{secret}".encode()).decode(),
        base64.b64encode(f"{user}:{secret}".encode("latin-1", "replace")).decode(),  # requests' HTTPBasicAuth
    ]
