"""Author-year citations, citation scopes, review reading (fixture excerpt and, when present, the seed review)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lskg.extract.citations import clean_markup, find_citations, fold_name, scopes
from lskg.extract.readers.review import review_documents
from lskg.extract.sentences import sentence_spans

GOLD = Path(__file__).resolve().parents[1] / "data" / "gold"


def labels(sentence: str) -> list[str]:
    return [c.label for g in find_citations(sentence) for c in g.citations]


@pytest.mark.parametrize("sentence, expected", [
    ("Nava et al. (2022) applied an attention U-Net.", ["Nava et al. (2022)"]),
    ("RNNs were used (Chen et al., 2015; Zhang et al., 2022c).", ["Chen et al. (2015)", "Zhang et al. (2022c)"]),
    ("Al-Najjar and Pradhan (2021b) generated inventories.", ["Al-Najjar and Pradhan (2021b)"]),
    ("As Ghorbanzadeh et al., 2019 showed, CNNs work.", ["Ghorbanzadeh et al. (2019)"]),
    ("Zhang et al. (2022a, b) and Wang (2023) did so.", ["Zhang et al. (2022a)", "Zhang et al. (2022b)", "Wang (2023)"]),
    ("(Hussain et al. 2019; e.g., Graves, 2012; Zamanzadeh Darban et al., 2024)",
     ["Hussain et al. (2019)", "Graves (2012)", "Zamanzadeh Darban et al. (2024)"]),
    ("In 2018 (Fig. 2) the 2008 Wenchuan earthquake struck.", []),
    ("Since 2015, and In (2019), nothing is cited.", []),
])
def test_find_citations(sentence: str, expected: list[str]) -> None:
    assert labels(sentence) == expected


def test_ids_fold_names() -> None:
    (group,) = find_citations("(Veličković et al., 2017)")
    assert group.citations[0].base_id == "velickovic2017"
    assert fold_name("Al-Najjar") == "alnajjar"


def test_scopes_split_a_sentence_between_two_narrative_citations() -> None:
    sentence = "Ding et al. (2022) enlarged kernels of CNNs, while Li et al. (2025) fused GNN features."
    groups = find_citations(sentence)
    first, second = (sentence[a:b] for a, b in scopes(sentence, groups))
    assert "CNNs" in first and "GNN" not in first
    assert "GNN" in second and "CNNs" not in second


def test_parenthetical_scope_is_the_text_before_it() -> None:
    sentence = "CNNs learn features (Ahn et al., 2020), and GANs synthesise data (Berg et al., 2021)."
    groups = find_citations(sentence)
    first, second = (sentence[a:b] for a, b in scopes(sentence, groups))
    assert "CNNs" in first and "GANs" not in first and "GANs" in second


def test_clean_markup_keeps_offsets() -> None:
    raw = "see [Nava et al. \\(2022\\)](#) here"
    text, offsets = clean_markup(raw)
    assert text == "see Nava et al. (2022) here"
    assert all(raw[o] == ch for ch, o in zip(text, offsets, strict=True))


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet="ab ()[]\\#.", max_size=40))
def test_clean_markup_offsets_property(raw: str) -> None:
    text, offsets = clean_markup(raw)
    assert len(text) == len(offsets)
    assert all(raw[o] == ch for ch, o in zip(text, offsets, strict=True))
    assert offsets == sorted(offsets)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["Nava et al. (2022) used CNNs.", "It worked (Fig. 2).", "See e.g. LSTM.",
                                 "Results were good!", "Zhou and Li, 2021 agreed."]), min_size=1, max_size=6))
def test_sentence_spans_cover_each_sentence(sentences: list[str]) -> None:
    text = " ".join(sentences)
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == sentences


def test_review_excerpt(fixtures: Path) -> None:
    raw = (fixtures / "review_excerpt.md").read_text(encoding="utf-8")
    docs = {d.study.id: d for d in review_documents(raw, "review_excerpt.md")}
    assert docs["brandt2021a"].study.title == "Brandt et al. (2021a)" and docs["brandt2021a"].study.year == 2021
    assert docs["brandt2021a"].study.kind == "landslide_study"
    # the three mentions of Brandt et al. (2021a) are one study; 2021b is another
    assert len([p for p in docs["brandt2021a"].passages if p.scope is not None]) == 2
    assert docs["brandt2021b"].study.kind == "landslide_study"
    # general method references: cited only where a model is explained in general
    for ref in ("elman1990", "hochreiter1997", "goodfellow2014"):
        assert docs[ref].study.kind == "method_reference" and docs[ref].passages == ()
    # evidence offsets point into the raw file, markup included
    passage = docs["brandt2021a"].passages[1]
    start = passage.text.index("LSTM")
    assert raw[passage.doc_offset(start):passage.doc_offset(start) + 4] == "LSTM"


def test_review_continuation_sentence_belongs_to_the_narrative_citation(fixtures: Path) -> None:
    raw = (fixtures / "review_excerpt.md").read_text(encoding="utf-8")
    docs = {d.study.id: d for d in review_documents(raw, "review_excerpt.md")}
    assert any(p.text.startswith("The results showed") for p in docs["brandt2021a"].passages)
    assert not any(p.text.startswith("The results showed") for p in docs["kaur2022"].passages)


@pytest.mark.seed
def test_seed_review_citations(seed_text: Path) -> None:
    docs = {d.study.id: d for d in review_documents(seed_text.read_text(encoding="utf-8"), seed_text.name)}
    gold_studies = [json.loads(line)["id"] for line in (GOLD / "seed_studies.jsonl").read_text().splitlines()]
    gold_refs = [json.loads(line)["id"] for line in (GOLD / "method_references.jsonl").read_text().splitlines()]
    found = set(docs)
    assert len(found & set(gold_studies)) >= 0.95 * len(gold_studies)
    assert len(found & set(gold_refs)) >= 0.95 * len(gold_refs)
    studies_kept = sum(docs[i].study.kind == "landslide_study" for i in gold_studies if i in docs)
    refs_detected = sum(docs[i].study.kind == "method_reference" for i in gold_refs if i in docs)
    assert studies_kept >= 0.85 * len(gold_studies)
    assert refs_detected >= 0.6 * len(gold_refs)
    for ref in ("ronneberger2015", "vaswani2017", "lecun1998", "cho2014"):
        assert docs[ref].study.kind == "method_reference"
    assert docs["nava2022"].study.title == "Nava et al. (2022)"
    assert docs["alnajjar2021b"].study.year == 2021
