"""Writing result files safely: never overwrite a file anglefish did not write.

Each output directory holds a manifest ``.anglefish-written.json`` mapping file names to
the SHA-256 of the content anglefish wrote.  A file may be overwritten only if it is absent,
or present with exactly the content anglefish wrote last time; anything else needs
``force=True``.  All checks happen before anything is written.
"""
from __future__ import annotations

import hashlib
import json
import pathlib

from .errors import AnglefishError

MANIFEST = ".anglefish-written.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class SafeWriter:
    def __init__(self, directory, force: bool = False):
        self.directory = pathlib.Path(directory)
        self.force = force
        if self.directory.exists() and not self.directory.is_dir():
            raise AnglefishError(f"{self.directory} exists and is not a directory")
        path = self.directory / MANIFEST
        try:
            self.manifest = json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError):
            self.manifest = {}

    def check(self, names) -> None:
        """Raise if any of ``names`` would overwrite a file anglefish did not write."""
        if self.force:
            return
        for name in names:
            path = self.directory / name
            if path.exists():
                known = self.manifest.get(name)
                if known is None or known != _sha(path.read_bytes()):
                    raise AnglefishError(f"refusing to overwrite {path}: anglefish did not write it "
                                         "(or it changed since); use --force")

    def write(self, files: dict) -> list:
        """Write {name: str | bytes}; returns the paths.  Checks every name first."""
        self.check(files)
        self.directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            path = self.directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            self.manifest[name] = _sha(data)
            paths.append(path)
        (self.directory / MANIFEST).write_text(json.dumps(self.manifest, indent=1, sort_keys=True))
        return paths
