"""The core commands as a user runs them: build -> validate -> query -> stats -> export, and exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lskg.cli import app

runner = CliRunner()


def _ok(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_build_validate_query_stats_export(tmp_path, tiny_corpus):
    store = str(tmp_path / "store")
    report = json.loads(_ok(["build", "--corpus", str(tiny_corpus), "--store", store, "--json"]))
    assert report["studies"] == 4 and report["validation"]["conforms"] is True
    assert report["facts"]["model"] >= 4
    assert "conforms" in _ok(["validate", "--store", store])
    out = _ok(["query", "models_for_context", "-p", "data=InSAR", "-p", "landslide_type=creeping",
               "--format", "json", "--store", store])
    bindings = json.loads(out)["results"]["bindings"]
    assert any("RNN" in b["family"]["value"] for b in bindings)
    csv = _ok(["query", "SELECT ?t WHERE { ?s a lskg:Study ; dcterms:title ?t } ORDER BY ?t", "--format", "csv",
               "--store", store])
    assert csv.splitlines()[0].strip() == "t" and len(csv.strip().splitlines()) == 5
    stats = json.loads(_ok(["stats", "--store", store, "--json"]))
    assert stats["studies"] == 4 and stats["top"]["model"][0]["studies"] >= 1
    nq = tmp_path / "graph.nq"
    _ok(["export", "--format", "nq", "--output", str(nq), "--store", store])
    assert nq.read_text().count("\n") == stats["quads"]
    assert "studies_for_context" in _ok(["queries"])


def test_user_errors_exit_3_without_traceback(tmp_path, tiny_corpus):
    store = str(tmp_path / "store")
    _ok(["build", "--corpus", str(tiny_corpus), "--store", store])
    bad = runner.invoke(app, ["query", "SELECT ?s WHERE { ?s ?p }", "--store", store])
    assert bad.exit_code == 3 and "malformed SPARQL" in bad.output and "Traceback" not in bad.output
    unknown = runner.invoke(app, ["query", "models_for_context", "-p", "data=InSARR", "--store", store])
    assert unknown.exit_code == 3 and "did you mean" in unknown.output
    missing = runner.invoke(app, ["stats", "--store", str(tmp_path / "none")])
    assert missing.exit_code == 3 and "lskg build" in missing.output


def test_usage_error_exits_2():
    assert runner.invoke(app, ["query"]).exit_code == 2


def test_validate_exits_1_on_a_non_conformant_graph(tmp_path, tiny_corpus):
    from lskg.kg import open_store

    store = str(tmp_path / "store")
    _ok(["build", "--corpus", str(tiny_corpus), "--store", store])
    with open_store(store, read_only=False) as handle:
        handle.update("PREFIX lskg: <https://w3id.org/lskg/ontology/> "
                      "INSERT DATA { GRAPH <urn:bad> { <urn:study> a lskg:Study } }")
    result = runner.invoke(app, ["validate", "--store", store])
    assert result.exit_code == 1 and "urn:study" in result.output


def test_stats_studies_and_ask_share_the_read_functions(tmp_path, tiny_corpus):
    """`lskg stats`, `lskg studies` and `lskg ask` print the records of lskg.kg.read, as /stats, /studies and
    /ask do."""
    import dataclasses

    from lskg.kg import open_store
    from lskg.kg.read import answer_json, ask, stats

    store = str(tmp_path / "store")
    _ok(["build", "--corpus", str(tiny_corpus), "--store", store])
    with open_store(store) as handle:
        record = dataclasses.asdict(stats(handle))
        answer = answer_json(ask(handle, "which studies use GNSS"))
    assert json.loads(_ok(["stats", "--store", store, "--json"])) == json.loads(json.dumps(record))
    page = json.loads(_ok(["studies", "--data", "GNSS,InSAR", "--store", store, "--json"]))
    assert page["total"] == 2 and {i["title"] for i in page["items"]} >= {
        "GRU prediction of reservoir landslide deformation from GNSS"}
    asked = json.loads(_ok(["ask", "which studies use GNSS", "--store", store, "--json"]))
    assert asked == json.loads(json.dumps(answer)) and asked["rows"]
    unknown = runner.invoke(app, ["studies", "--data", "LSTM", "--store", store])
    assert unknown.exit_code == 3 and "LSTM" in unknown.output
    text = _ok(["ask", "how many studies use the Zorblat sensor", "--store", store])
    assert "Zorblat" in text
