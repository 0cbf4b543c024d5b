"""The real corpus and its gold standard: records and provenance, the two-source merge, the hierarchy-aware scorer
and the frozen splits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lskg.data import CORPUS
from lskg.extract import gold as gold_data
from lskg.extract.evaluate import Labels, compare, score
from lskg.ontology.terms import DATA, LANDSLIDE, TASK

GOLD = Path(__file__).resolve().parents[1] / "data" / "gold" / "real"


def _records() -> list[dict]:
    return [json.loads(line) for path in sorted(CORPUS.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_embedded_corpus_records_carry_their_provenance() -> None:
    records = _records()
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)), "record ids are unique across the corpus files"
    published = [r for r in records if r.get("text_kind") == "paraphrase"]
    assert len(published) >= 450
    for r in published:
        assert r.get("doi") or r.get("url"), r["id"]
        assert r["title"] and r["abstract"] and isinstance(r["year"], int) and 2015 <= r["year"] <= 2026, r["id"]
        assert r["paraphrase_of"] == "published abstract", r["id"]
        assert not r.get("doi") or r["doi"] == r["doi"].lower() and r["doi"].startswith("10."), r["id"]
    reviews = [r for r in records if r.get("text_kind") == "review_summary"]
    assert len(reviews) == 60
    dois = [r["doi"] for r in published if r.get("doi")]
    assert len(dois) == len(set(dois)), "one record per published study"


def test_paraphrase_and_review_records_map_to_provenance_triples() -> None:
    from lskg.extract.readers.jsonl import study_from_record
    from lskg.kg.mapping import study_triples
    from lskg.ontology.terms import DCTERMS, LSKG
    from lskg.records import StudyFacts

    rec = {"id": "x2023", "title": "A title", "abstract": "Some text.", "year": 2023, "doi": "10.1/x",
           "url": "https://example.org/paper", "text_kind": "paraphrase"}
    study = study_from_record(rec, "abstracts.jsonl", "f")
    assert study.url == "https://example.org/paper" and study.text_kinds == ("paraphrase",)
    triples = {(t.predicate, t.object.value) for t in study_triples(StudyFacts(study))}
    assert (LSKG.textKind, "paraphrase") in triples
    assert (DCTERMS.source, "https://example.org/paper") in triples
    with pytest.raises(ValueError, match="text_kind"):
        study_from_record({**rec, "text_kind": "summary"}, "abstracts.jsonl", "f")


def test_a_review_summary_and_the_real_abstract_become_one_study(extractor) -> None:
    from lskg.build import merge_duplicates
    from lskg.extract.document import Document
    from lskg.extract.readers.jsonl import study_from_record

    review = study_from_record({"id": "wang2024a", "title": "Wang et al. (2024a): cracks", "year": 2024,
                                "abstract": "The authors detect ground cracks with a U-Net.",
                                "text_kind": "review_summary"}, "review-summaries.jsonl", "r")
    real = study_from_record({"id": "wang2024crack", "title": "Crack detection on slopes", "year": 2024,
                              "doi": "10.1/crack", "url": "https://example.org/crack", "same_study_as": "wang2024a",
                              "abstract": "We map landslide cracks in UAV imagery with an LSTM and a U-Net.",
                              "text_kind": "paraphrase"}, "abstracts.jsonl", "a")
    other = study_from_record({"id": "li2020", "title": "Unrelated", "year": 2020, "abstract": "A CNN."},
                              "abstracts.jsonl", "b")
    items = list(extractor.run([Document.of_record(s) for s in (review, real, other)]))
    merged, grown = merge_duplicates(items)
    assert len(merged) == 2
    (study,) = [m for m in merged if m.study.doi]
    assert grown == [study]
    assert study.study.title == "Crack detection on slopes" and study.study.doi == "10.1/crack"
    assert set(study.study.text_kinds) == {"review_summary", "paraphrase"}
    assert {"review-summaries.jsonl#wang2024a", "abstracts.jsonl#wang2024crack"} <= set(study.study.sources)
    documents = {f.evidence.document for f in study.facts}
    assert len(documents) == 2, "facts read from both texts are kept, each with its own evidence"


def test_scorer_narrower_is_right_broader_is_vague_else_wrong(index) -> None:
    insar, sbas, sar, s1 = DATA["InSAR"].value, DATA["SBASInSAR"].value, DATA["SARImagery"].value, DATA["Sentinel1"].value
    for iri in (insar, sbas, sar, s1):
        assert iri in index.concepts, iri
    matched, missed, wrong, vague = compare("data", {insar, s1}, {sbas, sar, DATA["UAVImagery"].value}, index)
    assert matched == {insar}  # SBAS-InSAR is narrower than InSAR: right
    assert vague == {sar}  # SAR imagery is broader than Sentinel-1: vague
    assert missed == {s1} and wrong == {DATA["UAVImagery"].value}
    # counted apart: a vague prediction is neither a true nor a false positive
    report = score([("s", {**_empty(), "data": {insar, s1}})], [{**_empty(), "data": {sbas, sar}}], index,
                   system="t", source="t")
    c = report.micro["data"]
    assert (c.tp, c.fp, c.fn, c.vague) == (1, 0, 1, 1)
    exact = compare("data", {insar}, {sbas}, index, hierarchical=False)
    assert exact[0] == set() and exact[2] == {sbas}


def test_gold_labels_resolve_through_the_ontology(index) -> None:
    labels = Labels(index)
    sets = labels.sets({"families": ["LSTM", "random forest"], "landslide_types": ["debris flows"],
                        "tasks": ["landslide susceptibility mapping", "an unknown task"], "metrics": ["F1-score"]})
    assert sets["families"] == {"RNN", "ClassicalML"}
    assert sets["landslide_types"] == {LANDSLIDE["DebrisFlow"].value}
    assert TASK["SusceptibilityMapping"].value in sets["tasks"] and "label:anunknowntask" in sets["tasks"]
    assert sets["metrics"] == {"F1"}
    assert labels.unresolved == {"tasks": {"an unknown task"}}


def _empty() -> dict[str, set[str]]:
    from lskg.extract.evaluate import REPORTED

    return {k: set() for k in REPORTED}


def test_splits_are_disjoint_complete_and_the_test_split_is_frozen() -> None:
    splits = gold_data.read_splits(GOLD)
    parts = {name: set(splits[name]) for name in gold_data.SPLITS}
    assert not (parts["train"] & parts["dev"]) and not (parts["train"] & parts["test"]) \
        and not (parts["dev"] & parts["test"]), "no study is in two splits"
    annotated = set(gold_data.assemble(GOLD, CORPUS))
    assert set().union(*parts.values()) == annotated, "every annotated study is in exactly one split"
    assert len(parts["test"]) >= 100 and len(annotated) >= 300
    test = gold_data.load(GOLD, "test")  # checks the recorded SHA-256
    assert len(test) == len(parts["test"])


def test_a_changed_test_split_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "gold"
    shutil.copytree(GOLD, copy)
    test_id = gold_data.read_splits(copy)["test"][0]
    for path in copy.glob("annotations-A-*.jsonl"):
        lines = path.read_text(encoding="utf-8").splitlines()
        edited = [json.dumps({**json.loads(line), "tasks": ["early warning"]}) if json.loads(line)["id"] == test_id
                  else line for line in lines]
        path.write_text("\n".join(edited) + "\n", encoding="utf-8")
    from lskg.errors import InputError

    with pytest.raises(InputError, match="frozen test split has changed"):
        gold_data.load(copy, "test")
    assert gold_data.load(copy, "dev"), "other splits still load"


def test_new_annotations_never_move_the_test_split(tmp_path: Path) -> None:
    copy = tmp_path / "gold"
    shutil.copytree(GOLD, copy)
    before = gold_data.read_splits(copy)
    dev_id = before["dev"][0]
    (copy / "splits.json").write_text(json.dumps({**before, "dev": before["dev"][1:]}), encoding="utf-8")
    after = gold_data.make_splits(copy, test=5, dev=len(before["dev"]), seed=1)
    assert after["test"] == before["test"] and after["test_sha256"] == before["test_sha256"]
    assert dev_id in after["dev"] + after["train"]


def test_second_annotation_covers_at_least_80_studies() -> None:
    primary = gold_data.assemble(GOLD, CORPUS)
    second = gold_data.read_annotations(GOLD, "B")
    assert len(set(second) & set(primary)) >= 80
