"""What reading each article file gave, kept by the file's content, so that the index
re-extracts a file (PDF layout analysis, HTML boilerplate removal) only when its bytes
change. What the text then tells (its date, its language) is found again each time:
it is quick, and improving it must not wait for a file to change."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from rag.ingest.formats import ArticleMeta, Extracted

# Raised whenever a reader changes what it gives, so that every file is read again.
EXTRACTION_VERSION = 2


class ExtractionCache:
    """One JSON file per distinct article file under ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.used: set[str] = set()

    @staticmethod
    def key(name: str, raw: bytes) -> str:
        """The entry of a file: its suffix (which picks the reader) and its bytes."""
        digest = hashlib.sha256(raw)
        digest.update(f"|{Path(name).suffix.lower()}|{EXTRACTION_VERSION}".encode())
        return digest.hexdigest()[:32]

    def get(self, key: str) -> Extracted | None:
        """The cached reading, or None (absent or unreadable: read the file again)."""
        self.used.add(key)
        try:
            data = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            return Extracted(data["text"], ArticleMeta(**data["meta"]), tuple(data["notes"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, extracted: Extracted) -> None:
        """Keep a reading (written whole or not at all)."""
        self.used.add(key)
        self.folder.mkdir(parents=True, exist_ok=True)
        data = {
            "text": extracted.text,
            "meta": extracted.meta.as_dict(),
            "notes": list(extracted.notes),
        }
        partial = self.folder / f".{key}.partial"
        partial.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, self.folder / f"{key}.json")

    def prune(self) -> None:
        """Drop the readings of files no longer in the folder (not used since created)."""
        if not self.folder.is_dir():
            return
        for path in self.folder.iterdir():
            if path.stem.lstrip(".").split(".")[0] not in self.used:
                path.unlink(missing_ok=True)
