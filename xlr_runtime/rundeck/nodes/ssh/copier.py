"""Scripts copied to a node's ``file-copy-destination-dir`` (over SFTP on the node's connection), made
executable, and removed after their run — Rundeck's file copier and its ``chmod +x`` / ``rm -f`` around a
script step."""

from __future__ import annotations

import contextlib
import posixpath
import re
import secrets

import paramiko

from xlr_runtime.rundeck.nodes.ssh.sessions import Session


def script_name(execution_id: int, node: str, extension: str | None) -> str:
    """``<execid>-<random>-<node>-dispatch-script.tmp[.ext]``: unique per run, named like Rundeck's."""
    safe_node = re.sub(r"[^A-Za-z0-9_.-]", "_", node)
    suffix = "" if not extension else extension if extension.startswith(".") else f".{extension}"
    return f"{execution_id}-{secrets.token_hex(4)}-{safe_node}-dispatch-script.tmp{suffix}"


def copy_script(session: Session, data: bytes, name: str) -> str:
    """Write ``data`` as ``name`` in the node's destination folder, mode 0700; return its remote path."""
    path = posixpath.join(session.target.destination_dir, name)
    sftp = session.sftp()
    try:
        with sftp.open(path, "wb") as remote:
            remote.write(data)
        sftp.chmod(path, 0o700)
    except OSError as exc:
        raise session.target.fail(f"cannot copy the script to {path}: {exc.strerror or exc}") from None
    return path


def remove_script(session: Session, path: str) -> None:
    """Remove a copied script (a node that went away meanwhile keeps it; nothing to do then)."""
    with contextlib.suppress(OSError, paramiko.SSHException):
        session.sftp().remove(path)
