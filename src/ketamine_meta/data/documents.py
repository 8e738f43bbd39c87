"""The documents the claims quote, by title: ``config/documents.yaml`` (config ``documents_file``).

The file lists one entry per document: ``file`` (the seed file name that ``claims.yaml`` uses as
``document``), ``title``, ``author``, ``date`` and ``url`` (where the document was published; empty
when it gives none). The file is optional: a document without an entry, or a run without the file,
is named by its file name, so nothing downstream depends on it being there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ketamine_meta.core import yamltext

FIELDS = ("file", "title", "author", "date", "url")


@dataclass(frozen=True)
class Document:
    file: str
    title: str
    author: str = ""
    date: str = ""
    url: str = ""

    @property
    def has_title(self) -> bool:
        return self.title != self.file

    @property
    def citation(self) -> str:
        """'Title' (author, date): what a table or a figure prints for the document."""
        extra = ", ".join(x for x in (self.author, self.date) if x)
        return f"{self.title} ({extra})" if extra else self.title


def _entries(data) -> list[dict]:
    """A list of entries, a ``documents:`` key holding one, or a mapping file -> entry."""
    if isinstance(data, dict) and "documents" in data:
        data = data["documents"]
    if isinstance(data, dict):
        return [{"file": k, **(v or {})} for k, v in data.items()]
    return list(data or [])


def load_documents(path: str | Path | None) -> dict[str, Document]:
    """file name -> :class:`Document` from ``path``; {} when the path is empty or the file absent."""
    if not path or not Path(path).is_file():
        if path:
            logging.info("documents file %s not found: documents are named by file name", path)
        return {}
    out = {}
    for entry in _entries(yamltext.safe_load(Path(path).read_text(encoding="utf-8"))):
        if not isinstance(entry, dict) or not entry.get("file"):
            continue
        values = {k: "" if entry.get(k) is None else str(entry.get(k)).strip() for k in FIELDS}
        values["title"] = values["title"] or values["file"]
        out[values["file"]] = Document(**values)
    return out


def document(file: str, documents: dict[str, Document]) -> Document:
    """The document named ``file``, by its title when ``documents`` has one, else by file name."""
    return documents.get(str(file)) or Document(file=str(file), title=str(file))
