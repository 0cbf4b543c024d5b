"""Readers: real-shaped exports of every format, and broken ones (the good records still come through)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lskg.errors import InputError
from lskg.extract.readers import READERS, read_documents, reader_for
from lskg.extract.readers.bibtex import latex_to_text
from lskg.extract.readers.ris import split_records


def read(path: Path, fmt: str = "auto") -> tuple[list, list[InputError]]:
    problems: list[InputError] = []
    return list(read_documents([path], fmt, problems)), problems


@pytest.mark.parametrize("name, fmt", [("scopus.csv", "csv"), ("wos_savedrecs.txt", "wos"), ("zotero.bib", "bibtex"),
                                       ("endnote.ris", "ris"), ("study.md", "text"), ("one_page.pdf", "pdf"),
                                       ("review_excerpt.md", "review"), ("corpus.jsonl", "jsonl")])
def test_reader_for_detects_format(fixtures: Path, name: str, fmt: str) -> None:
    assert reader_for(fixtures / name).name == fmt


def test_every_registered_reader_has_a_fixture(fixtures: Path) -> None:
    detected = {reader_for(p).name for p in fixtures.rglob("*") if p.is_file() and p.suffix != ".py"}
    assert set(READERS) <= detected


def test_unknown_format_names_the_file(fixtures: Path) -> None:
    with pytest.raises(InputError, match="unknown format 'docx'"):
        reader_for(fixtures / "study.md", "docx")


def test_scopus_csv_columns(fixtures: Path) -> None:
    docs, problems = read(fixtures / "scopus.csv")
    first = docs[0].study
    assert first.id == "2-s2.0-85100000001"
    assert first.title.startswith("Mapping rainfall-induced shallow landslides")
    assert first.year == 2022 and first.doi == "10.3390/rs14092101" and first.venue == "Remote Sensing"
    assert first.authors == ("Okafor N.", "Lindqvist M.")
    assert "©" not in first.abstract and "outperformed a random forest" in first.abstract
    assert docs[1].study.abstract == ""  # "[No abstract available]"
    assert len(problems) == 1 and "line 5" in str(problems[0]) and "no title" in str(problems[0])


def test_csv_with_wrong_encoding_is_one_clear_problem(fixtures: Path) -> None:
    docs, problems = read(fixtures / "scopus_latin1.csv")
    assert docs == []
    assert len(problems) == 1
    message = str(problems[0])
    assert "scopus_latin1.csv" in message and "UTF-8" in message and "line 2" in message


def test_web_of_science_tab_delimited(fixtures: Path) -> None:
    docs, problems = read(fixtures / "wos_savedrecs.txt")
    assert problems == []
    assert [d.study.id for d in docs] == ["WOS:000500000000001", "WOS:000500000000002"]
    assert docs[0].study.authors == ("Tanaka, H", "Ferreira, L")
    assert docs[1].study.year == 2023 and docs[1].study.venue == "GEOMORPHOLOGY"


def test_zotero_bibtex(fixtures: Path) -> None:
    docs, problems = read(fixtures / "zotero.bib")
    assert problems == []
    by_id = {d.study.id: d.study for d in docs}
    first = by_id["kowalski_transformer_2023"]
    assert first.title == "A Transformer for early warning of rainfall-induced landslides from GNSS displacement"
    assert first.authors[2] == "François, Luc"
    assert first.venue == "Landslides" and first.doi == "10.1007/s10346-023-00001-1"
    assert by_id["mendes_gan_2021"].authors[1] == "Müller, Jonas"
    assert by_id["noabstract_2019"].abstract == ""
    assert docs[0].locator == "zotero.bib#kowalski_transformer_2023"


def test_truncated_bibtex_reports_keys_and_keeps_good_entries(fixtures: Path) -> None:
    docs, problems = read(fixtures / "truncated.bib")
    assert [d.study.id for d in docs] == ["good_one_2022", "good_two_2020"]
    messages = [str(p) for p in problems]
    assert any("broken_2021" in m and "line 8" in m for m in messages)
    assert any("cut_off_2024" in m and "end of file" in m for m in messages)


def test_endnote_ris(fixtures: Path) -> None:
    docs, problems = read(fixtures / "endnote.ris")
    assert problems == []
    first = docs[0].study
    assert first.title.startswith("Detecting landslides in Sentinel-2")
    assert first.year == 2022 and first.authors == ("Petrov, Ivan", "Santos, Clara")
    assert first.venue == "Remote Sensing of Environment"
    assert "overall accuracy of 94.2%" in first.abstract


def test_ris_without_end_tag_names_the_record_and_keeps_the_others(fixtures: Path) -> None:
    docs, problems = read(fixtures / "broken_no_er.ris")
    assert [d.study.title for d in docs] == ["U-Net segmentation of landslides in UAV orthophotos"]
    assert len(problems) == 2
    assert "A record whose ER tag was lost" in str(problems[0]) and "line 1" in str(problems[0])
    assert "ER" in str(problems[1]) and "line 14" in str(problems[1])


def test_jsonl_bad_lines_are_reported(fixtures: Path) -> None:
    docs, problems = read(fixtures / "corpus.jsonl")
    assert [d.study.id for d in docs] == ["j1", "j2"]
    assert docs[1].study.title.startswith("LiteTransNet")  # title taken from the text
    assert ["line 3" in str(p) for p in problems] == [True, False]
    assert "line 4" in str(problems[1])


def test_markdown_study_first_line_is_title(fixtures: Path) -> None:
    (doc,), problems = read(fixtures / "study.md")
    assert doc.study.title == "Diffusion-based super-resolution of DEMs for landslide inventory mapping"
    assert doc.study.abstract.startswith("We propose a conditional denoising")


def test_pdf_title_and_abstract(fixtures: Path) -> None:
    (doc,), problems = read(fixtures / "one_page.pdf")
    assert problems == []
    assert doc.study.title == "Landslide detection with a Swin Transformer on PlanetScope images"
    assert doc.study.abstract.startswith("We apply a Swin Transformer")
    assert "Keywords" not in doc.study.abstract and "Introduction" not in doc.study.abstract


@pytest.mark.parametrize("name, expected", [("empty.pdf", "no extractable text (scanned PDF?)"),
                                            ("corrupt.pdf", "not a readable PDF")])
def test_unreadable_pdf_is_one_problem_naming_the_file(fixtures: Path, name: str, expected: str) -> None:
    docs, problems = read(fixtures / name)
    assert docs == [] and len(problems) == 1
    assert name in str(problems[0]) and expected in str(problems[0])


def test_folder_reads_every_file_and_collects_problems(fixtures: Path) -> None:
    docs, problems = read(fixtures)
    ids = {d.study.id for d in docs}
    assert {"j1", "good_one_2022", "WOS:000500000000001", "one_page", "brandt2021a"} <= ids
    assert any("empty.pdf" in str(p) for p in problems)


def test_missing_source_is_a_problem(tmp_path: Path) -> None:
    docs, problems = read(tmp_path / "nope.bib")
    assert docs == [] and "no such file" in str(problems[0])


# --- property tests ---------------------------------------------------------------------------------------

TEXT = st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd"), max_codepoint=0x24F), min_size=1,
               max_size=30).map(str.strip).filter(bool)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT, st.integers(1950, 2030)), min_size=1, max_size=5))
def test_jsonl_round_trip(tmp_path_factory, records) -> None:
    path = tmp_path_factory.mktemp("jsonl") / "c.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"r{i}", "title": t, "abstract": a, "year": y})
                              for i, (t, a, y) in enumerate(records)), encoding="utf-8")
    docs, problems = read(path)
    assert problems == []
    assert [(d.study.title, d.study.year) for d in docs] == [(" ".join(t.split()), y) for t, _, y in records]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(TEXT, st.booleans()), min_size=1, max_size=6))
def test_ris_split_keeps_terminated_records(records) -> None:
    text = "\n".join(f"TY  - JOUR\nTI  - {title}\n" + ("ER  - \n" if ended else "") for title, ended in records)
    blocks = list(split_records(text))
    assert len(blocks) == len(records)
    assert [terminated for _, _, terminated in blocks] == [ended for _, ended in records]


@settings(max_examples=60, deadline=None)
@given(TEXT)
def test_latex_to_text_removes_braces(text) -> None:
    assert latex_to_text("{" + text + "}") == " ".join(text.split())
    assert "{" not in latex_to_text("{{" + text + "}}")
