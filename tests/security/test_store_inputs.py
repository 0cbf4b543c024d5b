"""Input that would exhaust memory or crash the pipeline is refused per file and per record, by name, and the
rest of the corpus is still read."""

from __future__ import annotations

import json

from lskg.errors import InputError
from lskg.extract.readers import read_documents
from lskg.extract.readers.registry import ReadLimits


def _read(sources, limits):
    problems: list[InputError] = []
    return list(read_documents(sources, problems=problems, limits=limits)), problems


def test_an_oversized_file_is_refused_by_name_and_the_others_read(tmp_path, tiny_corpus):
    big = tmp_path / "big.jsonl"
    big.write_text(tiny_corpus.read_text() * 40)
    docs, problems = _read([big, tiny_corpus], ReadLimits(max_file_bytes=tiny_corpus.stat().st_size * 2))
    assert len(docs) == 4
    assert len(problems) == 1 and str(big) in str(problems[0]) and "over the limit" in str(problems[0])


def test_an_oversized_record_is_skipped_naming_its_line(tmp_path, tiny_corpus):
    lines = tiny_corpus.read_text().splitlines()
    huge = json.dumps({"id": "huge", "title": "Huge", "abstract": "landslide " * 2000})
    corpus = tmp_path / "mixed.jsonl"
    # line 2 is blank, line 3 is not JSON, line 5 and line 7 are over the limit.
    corpus.write_text("\n".join([lines[0], "", "{not json", lines[1], huge, lines[2], huge, lines[3]]) + "\n")
    docs, problems = _read([corpus], ReadLimits(max_record_chars=5000))
    assert len(docs) == 4
    oversized = [p for p in problems if "over the limit" in p.message]
    assert [p.record for p in oversized] == ["line 5", "line 7"]
    assert all(str(corpus) in str(p) for p in oversized)


def test_an_empty_file_and_an_empty_folder_are_problems(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n\n")
    (tmp_path / "folder").mkdir()
    docs, problems = _read([tmp_path / "empty.jsonl", tmp_path / "folder"], ReadLimits())
    assert docs == []
    assert "no study could be read from the file" in str(problems[0]) and "empty.jsonl" in str(problems[0])
    assert "holds no corpus file" in str(problems[1]) and "folder" in str(problems[1])
