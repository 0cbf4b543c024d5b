"""The decision stage from the command line: `lskg extract --decide`, `lskg evaluate extraction --decide`,
`lskg train-extractor` (same seed, same file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lskg.cli import app

GOLD = Path(__file__).resolve().parents[1] / "data" / "gold"
runner = CliRunner()


def test_extract_with_and_without_the_decision(fixtures: Path, tmp_path: Path) -> None:
    outputs = {}
    for flag in ("--rules-only", "--decide"):
        out = tmp_path / f"{flag}.jsonl"
        result = runner.invoke(app, ["extract", str(fixtures / "zotero.bib"), "--output", str(out), flag])
        assert result.exit_code == 0, result.output
        outputs[flag] = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(outputs["--decide"]) == len(outputs["--rules-only"])
    assert outputs["--decide"][0]["families"]  # the studies still have their models
    assert outputs["--decide"] != outputs["--rules-only"]  # the two paths differ on these studies
    default = runner.invoke(app, ["extract", str(fixtures / "zotero.bib")], env={"LSKG_DECIDE": None})
    assert [json.loads(line) for line in default.stdout.splitlines()] == outputs["--decide"]  # on by default
    env = runner.invoke(app, ["extract", str(fixtures / "zotero.bib")], env={"LSKG_DECIDE": "0"})
    assert [json.loads(line) for line in env.stdout.splitlines()] == outputs["--rules-only"]  # the setting


def test_evaluate_side_by_side(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "extraction", "--gold", str(GOLD / "dev_studies.jsonl"), "--decide",
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"].startswith("lskg.decision.v1")
    for system in ("rules_only", "learned"):
        facets = data[system]["facets"]
        assert {"families", "data", "landslide_types", "tasks"} <= set(facets)
        assert all(len(facets[k]["f1_ci95"]) == 2 for k in ("families", "data", "landslide_types", "tasks"))
    assert set(data["keywords"]) == {"families", "data", "landslide_types", "tasks"}
    assert all(len(v) == 3 for v in data["difference_to_rules"].values())
    table = runner.invoke(app, ["evaluate", "extraction", "--gold", str(GOLD / "dev_studies.jsonl"), "--decide"])
    assert table.exit_code == 0 and "rules-only" in table.stdout and "learned" in table.stdout


@pytest.mark.slow
def test_train_extractor_writes_the_same_file_for_the_same_seed(tmp_path: Path) -> None:
    files = []
    for n in (1, 2):
        out = tmp_path / f"model-{n}.json"
        result = runner.invoke(app, ["train-extractor", "--gold", str(GOLD / "real"), "--seed", "3", "--output",
                                     str(out), "--json"])
        assert result.exit_code == 0, result.output
        files.append(out.read_bytes())
    assert files[0] == files[1]
    model = json.loads(files[0])
    assert model["seed"] == 3 and model["trained_on"]["split"] == "train"
