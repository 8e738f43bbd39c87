"""The documents file: titles and URLs when it exists, file names when it does not."""

from __future__ import annotations

import yaml

from ketamine_meta.data.documents import document, load_documents


def test_list_mapping_and_documents_key(tmp_path):
    entries = [{"file": "a.txt", "title": "A title", "author": "X", "date": "2021-07-19", "url": "https://a.org"},
               {"file": "b.txt", "title": None}, {"title": "no file: ignored"}]  # fmt: skip
    for data in (entries, {"documents": entries}):
        path = tmp_path / "docs.yaml"
        path.write_text(yaml.safe_dump(data))
        docs = load_documents(path)
        assert set(docs) == {"a.txt", "b.txt"}
        assert docs["a.txt"].citation == "A title (X, 2021-07-19)" and docs["a.txt"].url == "https://a.org"
        assert docs["b.txt"].title == "b.txt" and not docs["b.txt"].has_title
    path.write_text(yaml.safe_dump({"c.txt": {"title": "C"}}))
    assert load_documents(path)["c.txt"].title == "C"


def test_absent_file_names_documents_by_file(tmp_path):
    assert load_documents(tmp_path / "missing.yaml") == {} == load_documents("") == load_documents(None)
    d = document("001_x.txt", {})
    assert (d.title, d.url, d.has_title) == ("001_x.txt", "", False)
