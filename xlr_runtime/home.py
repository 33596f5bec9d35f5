"""The home: the folder that holds a runtime's database, configuration and extra plugins.

``--home`` or ``XLR_HOME`` names it; the default is ``~/.xlr``. Layout::

    xlr.toml                settings ([settings]) and configuration items ([ci.NAME])
    conf/xl-release.conf    XL Release's own HOCON file (the default polling interval)
    plugins/  ext/          extra plugins (ext/ overrides plugins/, as in XL Release)
    xlr.db                  the SQLite store
    secret.key              the key that seals secrets in the store (created on first use, mode 0600)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from xlr_runtime.errors import HomeError

#: Environment variable naming the home folder.
HOME_ENV = "XLR_HOME"

#: The name of the secret key file in a home (:mod:`xlr_runtime.secrets`).
SECRET_KEY_FILE = "secret.key"


def default_home() -> Path:
    """``$XLR_HOME`` if set, else ``~/.xlr``."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else Path.home() / ".xlr"


@dataclass(frozen=True)
class Home:
    """Paths inside one home folder; creating the object touches nothing on disk."""

    root: Path

    @property
    def config_file(self) -> Path:
        """``xlr.toml``: settings and CIs."""
        return self.root / "xlr.toml"

    @property
    def hocon_file(self) -> Path:
        """``conf/xl-release.conf``: XL Release's own configuration file."""
        return self.root / "conf" / "xl-release.conf"

    @property
    def database(self) -> Path:
        """The SQLite store."""
        return self.root / "xlr.db"

    @property
    def plugins_dir(self) -> Path:
        """Extra plugins, folders or archives."""
        return self.root / "plugins"

    @property
    def ext_dir(self) -> Path:
        """Plugins whose types and scripts override those in ``plugins/``."""
        return self.root / "ext"

    def ensure(self) -> Home:
        """Create the home folder if missing; return self. :class:`HomeError` when it cannot be created (a
        read-only file system, a path under ``/proc``, a file in the way)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = f"cannot create the home folder: {exc.strerror or exc}"
            raise HomeError(self.root, reason, hint="Use another --home (XLR_HOME).") from None
        return self
