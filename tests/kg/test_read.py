"""The read functions shared by the CLI and the API (stats, studies, concept, ask), and /ask's question set:
tests/data/ask_questions.jsonl, researcher questions with paraphrases, the concepts and the answer kind each
should be read as, answered on a graph built from tests/data/ask_corpus.jsonl."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from lskg.errors import UnknownConceptError
from lskg.kg.ask import read_question
from lskg.kg.read import SEPARATOR, ask, concept, resolve_many, split_values, stats, studies
from lskg.ontology import concept_index
from lskg.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data"
QUESTIONS = [json.loads(line) for line in (DATA / "ask_questions.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]


@pytest.fixture(scope="module")
def ask_store(tmp_path_factory: pytest.TempPathFactory):
    from lskg.build import build
    from lskg.kg import open_store

    root = tmp_path_factory.mktemp("ask") / "store"
    build([DATA / "ask_corpus.jsonl"], Settings(store=str(root)), check=False)
    with open_store(str(root)) as store:
        yield store


def test_the_question_set_is_big_enough_and_has_paraphrases() -> None:
    assert len(QUESTIONS) >= 30
    kinds = {q["kind"] for q in QUESTIONS}
    assert {"studies", "models", "data", "landslide_type", "task", "count", "metric", "table1"} <= kinds


@pytest.mark.parametrize("case", QUESTIONS, ids=[q["q"][:50] for q in QUESTIONS])
def test_question_is_read_as_expected(case: dict) -> None:
    question = read_question(case["q"])
    assert question.kind == case["kind"]
    labels = [c.pref_label for c in question.concepts]
    assert set(case["concepts"]) <= set(labels), labels
    if "metric" in case:
        assert question.metric == case["metric"]
    for word in case.get("unknown", []):
        assert word in question.unknown


@pytest.mark.parametrize("case", QUESTIONS, ids=[q["q"][:50] for q in QUESTIONS])
def test_question_gets_rows(ask_store, case: dict) -> None:
    answer = ask(ask_store, case["q"])
    assert bool(answer.rows) == case.get("rows", True), answer.message
    if case.get("relaxed"):
        assert answer.relaxed and "Nothing matches" in answer.message
    for title in case.get("titles", []):
        assert title in {r.get("title") for r in answer.rows}
    if answer.sparql:  # the query shown is the query run
        assert len(ask_store.select(answer.sparql)) >= (1 if answer.kind == "count" else len(answer.rows)) or \
            answer.kind == "metric"


def test_family_question_keeps_its_hybrids_but_not_the_other_parent(ask_store) -> None:
    answer = ask(ask_store, "GRU-based studies, including BiGRU and VAE-GRU")
    titles = {r["title"] for r in answer.rows}
    assert "A VAE-GRU model for probabilistic interval prediction of landslide displacement" in titles
    assert not any("U-Net" in t or "LSTM" in t for t in titles)  # VAE's other studies are not GRU studies


def test_words_not_understood_are_reported(ask_store) -> None:
    answer = ask(ask_store, "which studies use LSTM near the Zorblat reservoir")
    assert "Zorblat" in answer.question.unknown and "Zorblat" in answer.message
    assert answer.rows  # still answered for what was understood


def test_metric_answer_carries_the_value(ask_store) -> None:
    answer = ask(ask_store, "what RMSE do LSTM studies report")
    assert [(r["metric"], float(r["value"] or 0)) for r in answer.rows] == [("RMSE", 2.1)]
    assert 'VALUES $metric { "RMSE" }' in answer.sparql  # chosen in the query, before a page is cut


def test_a_page_of_metrics_is_cut_after_the_metric_is_chosen(ask_store) -> None:
    every = ask_store.select("api_ask_metrics")
    ranked = [(r["metric"].value, -float(r["value"].value)) for r in every]
    assert len(every) > 2 and ranked == sorted(ranked)
    assert ask_store.select("api_ask_metrics", limit=2, offset=1) == every[1:3]
    name = every[-1]["metric"].value
    assert ask_store.select("api_ask_metrics", metric=name, limit=1) == [r for r in every if r["metric"].value == name][:1]


def test_rainfall_question_is_about_data_not_types() -> None:
    question = read_question("which landslide studies used rainfall data")
    assert question.kind == "studies" and [c.facet for c in question.concepts] == ["data"]


def test_records_are_frozen(ask_store) -> None:
    record = stats(ask_store)
    assert record.studies == 12 and record.quads > 0 and record.top["model"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.studies = 0  # type: ignore[misc]


def test_studies_filters_and_concept(ask_store) -> None:
    gnss = resolve_many(["GNSS"], "data")
    page = studies(ask_store, {"data": gnss}, limit=2)
    assert page.total == 4 and len(page.items) == 2 and page.filters == {"data": tuple(gnss)}
    detail = concept(ask_store, "model/GRU")
    assert detail.concept.pref_label == "gated recurrent unit" and detail.studies >= 3
    assert concept_index().resolve("BiGRU").iri in detail.narrower
    assert concept(ask_store, "GRU").concept == detail.concept


def test_a_page_beyond_the_last_study_is_empty_but_keeps_the_total(ask_store) -> None:
    gnss = resolve_many(["GNSS"], "data")
    pages = [studies(ask_store, {"data": gnss}, offset=offset, limit=3) for offset in (0, 3, 9)]
    assert [(p.total, len(p.items)) for p in pages] == [(4, 3), (4, 1), (4, 0)]
    assert len({i.iri for p in pages for i in p.items}) == 4


def test_a_long_studies_answer_lists_a_page_and_says_how_many_match(ask_store, monkeypatch) -> None:
    import lskg.kg.read as read

    whole = ask(ask_store, "which studies use GNSS data")
    monkeypatch.setattr(read, "ASK_ROWS", 2)
    answer = ask(ask_store, "which studies use GNSS data")
    assert len(whole.rows) == 4 and answer.rows == whole.rows[:2]
    assert answer.message.startswith("4 studies match") and "the 2 newest" in answer.message
    assert "LIMIT 2" in answer.sparql


def test_resolve_many_splits_on_the_one_separator() -> None:
    assert SEPARATOR == ","
    assert split_values(["InSAR, GNSS", "rainfall data"]) == ["InSAR", "GNSS", "rainfall data"]
    assert len(resolve_many(["InSAR,GNSS"], "data")) == 2
    with pytest.raises(UnknownConceptError):
        resolve_many(["LSTM"], "data")


def test_a_label_of_one_facet_names_the_concepts_of_others_inside_it() -> None:
    """"debris flow prediction" is a task label that also names a landslide type: the type is read too, once, at
    its most specific label (not "flow" again as the broader flow-type landslide)."""
    labels = [c.pref_label for c in read_question("debris flow prediction with LSTM").concepts]
    assert sorted(labels) == ["debris flow", "landslide prediction", "long short-term memory"]
