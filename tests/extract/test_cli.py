"""End to end: `lskg extract`, `lskg evaluate extraction`, `lskg build` on corpora, `lskg concepts candidates`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lskg.cli import app

GOLD = Path(__file__).resolve().parents[1] / "data" / "gold"
runner = CliRunner()


def test_extract_writes_issue_shape(fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "facts.jsonl"
    result = runner.invoke(app, ["extract", str(fixtures / "zotero.bib"), "--output", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"id", "title", "year", "families", "models", "data", "landslide_types", "tasks", "metrics", "place",
            "concepts"} <= set(records[0])
    first = records[0]
    assert first["families"] == ["RNN", "Transformer"]  # SlopeFormer/Transformer applied; LSTM, GRU baselines
    assert "SlopeFormer" in first["models"]
    roles = {c["label"]: c["role"] for c in first["concepts"]}
    assert roles["long short-term memory"] == "baseline" and roles["SlopeFormer"] == "proposed"
    assert {"rainfall-induced landslide", "reservoir-induced landslide"} <= set(first["landslide_types"])
    assert first["metrics"][0]["name"] == "MAE" and first["metrics"][0]["value"] == 1.8
    concept = first["concepts"][0]
    assert {"iri", "label", "facet", "role", "span", "sentence", "confidence"} <= set(concept)
    assert records[1]["place"] == "Sichuan, China"


def test_extract_to_stdout_and_problems_on_stderr(fixtures: Path) -> None:
    result = runner.invoke(app, ["extract", str(fixtures / "broken_no_er.ris")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["models"] == ["U-Net"]  # stdout holds only the records
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 2 and all("broken_no_er.ris, record line" in line for line in skipped)
    assert "1 studies extracted, 2 problems" in result.stderr


def test_extract_unknown_format_is_a_user_error(fixtures: Path) -> None:
    result = runner.invoke(app, ["extract", str(fixtures / "zotero.bib"), "--format", "docx"])
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert "unknown format 'docx'" in result.output and "bibtex" in result.output


def test_extract_takes_corpus_as_an_option_too(fixtures: Path) -> None:
    """`--corpus` as in `lskg build`, or the files as arguments: the same records either way."""
    as_argument = runner.invoke(app, ["extract", str(fixtures / "broken_no_er.ris")])
    as_option = runner.invoke(app, ["extract", "--corpus", str(fixtures / "broken_no_er.ris")])
    assert as_option.exit_code == 0, as_option.output
    assert as_option.stdout == as_argument.stdout and as_option.stdout.strip()
    nothing = runner.invoke(app, ["extract"])
    assert nothing.exit_code == 3 and "--corpus" in nothing.output


@pytest.mark.parametrize("command", ["extract", "build", "add"])
def test_help_lists_every_registered_reader(command: str) -> None:
    from lskg.extract.readers import formats

    result = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.replace("│", " ").split())
    for name in formats():
        assert name in text, (name, command)
    assert "wos" in text and "openalex" in text


def test_evaluate_extraction_json(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "g1", "text": "A U-Net maps co-seismic landslides in Sentinel-2 images; it "
                                "outperformed a random forest.", "families": ["CNN", "ClassicalML", "GAN"],
                                "data": ["Sentinel-2", "not-a-data-source"], "landslide_types": [
                                    "earthquake-induced landslide"], "tasks": ["landslide mapping"]}) + "\n")
    result = runner.invoke(app, ["evaluate", "extraction", "--gold", str(gold), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    fam = report["facets"]["families"]
    assert fam["tp"] == 2 and fam["fn"] == 1 and fam["fp"] == 0  # GAN is not in the text
    assert report["facets"]["data"]["tp"] == 1
    assert report["unresolved_gold_labels"] == {"data": ["not-a-data-source"]}
    assert report["worst_studies"][0]["missed"]["families"] == ["GAN"]


@pytest.mark.parametrize("gold, floor", [("seed_studies.jsonl", 0.9), ("dev_studies.jsonl", 0.9)])
def test_family_f1_on_gold(gold: str, floor: float) -> None:
    from lskg.extract.evaluate import evaluate_extraction

    path = GOLD / gold
    if not path.exists():
        pytest.skip(f"{gold} not present")
    report = evaluate_extraction(path)
    assert report.micro["families"].f1 >= floor


def test_build_review_keeps_method_references_out(fixtures: Path, tmp_path: Path) -> None:
    from lskg.build import build
    from lskg.kg import open_store
    from lskg.settings import Settings

    settings = Settings(store=str(tmp_path / "store"))
    report = build([fixtures / "review_excerpt.md"], settings, fmt="review")
    assert report.facts.get("model", 0) >= 3
    assert report.studies >= 1 and report.method_references >= 1
    with open_store(settings.store) as store:
        kinds = {str(r["kind"].value) for r in store.select(
            "SELECT DISTINCT ?kind WHERE { GRAPH ?g { ?s <https://w3id.org/lskg/ontology/studyKind> ?kind } }")}
        studies = store.select("graph_stats")[0]
    assert kinds == {"landslide_study", "method_reference"}  # both kinds present, each under its own kind
    assert int(studies["studies"].value) == report.studies  # method references are not counted as studies
    assert int(studies["methodReferences"].value) == report.method_references


def test_concepts_candidates_lists_built_candidates(fixtures: Path, tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    assert runner.invoke(app, ["build", "--corpus", str(fixtures / "corpus.jsonl"), "--store", store]).exit_code == 0
    result = runner.invoke(app, ["concepts", "candidates", "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    labels = {r["label"]: r["families"] for r in json.loads(result.stdout)}
    assert "LiteTransNet" in labels and "CNN-BiGRU" in labels


@pytest.mark.seed
def test_build_on_seed_review(seed_text: Path, tmp_path: Path) -> None:
    from lskg.build import build
    from lskg.settings import Settings

    report = build([seed_text], Settings(store=str(tmp_path / "store")), fmt="review")
    assert report.studies >= 55  # the review's landslide studies (60 in the gold)...
    assert report.method_references >= 50  # ...and its general method references (85 in the gold), kept apart
    assert report.facts["model"] >= 60 and report.facts["task"] >= 30
