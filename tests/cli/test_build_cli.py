"""`lskg build` and `lskg add` as a hurried user runs them: bad input exits 3 and keeps the graph, problems come
before the summary, oversized input is a message (not a traceback), and a second writer is refused or waits."""

from __future__ import annotations

import json
import threading
import time

from typer.testing import CliRunner

from lskg.cli import app
from lskg.kg.store import StoreDir

runner = CliRunner()


def _studies(store: str) -> int:
    result = runner.invoke(app, ["stats", "--store", store, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["studies"]


def test_a_build_of_nothing_exits_3_and_keeps_the_graph(tmp_path, tiny_corpus):
    store = str(tmp_path / "store")
    assert runner.invoke(app, ["build", "--corpus", str(tiny_corpus), "--store", store]).exit_code == 0
    generation = StoreDir(store).generation()
    empty, latin = tmp_path / "empty.jsonl", tmp_path / "latin.jsonl"
    empty.write_bytes(b"")
    latin.write_bytes('{"title": "Glissement de terrain détecté"}\n'.encode("latin-1"))
    (tmp_path / "folder").mkdir()
    for corpus, problem in [(tmp_path / "missing.jsonl", "no such file"), (empty, "no study could be read"),
                            (latin, "not valid UTF-8"), (tmp_path / "folder", "holds no corpus file")]:
        result = runner.invoke(app, ["build", "--corpus", str(corpus), "--store", store])
        assert result.exit_code == 3, result.output
        assert problem in result.output and "Traceback" not in result.output
        assert "built" not in result.output  # no summary of a build that did not happen
    assert StoreDir(store).generation() == generation and _studies(store) == 4


def test_add_of_a_missing_file_exits_3(tmp_path, tiny_corpus):
    store = str(tmp_path / "store")
    assert runner.invoke(app, ["build", "--corpus", str(tiny_corpus), "--store", store]).exit_code == 0
    result = runner.invoke(app, ["add", str(tmp_path / "missing.jsonl"), "--store", store])
    assert result.exit_code == 3 and "no such file" in result.output and "added" not in result.output


def test_problems_are_printed_before_the_summary(tmp_path, tiny_corpus):
    store = str(tmp_path / "store")
    corpus = tmp_path / "mixed.jsonl"
    corpus.write_text(tiny_corpus.read_text() + "this line is not JSON\n")
    result = runner.invoke(app, ["build", "--corpus", str(corpus), "--store", store])
    assert result.exit_code == 0, result.output
    assert "line 5" in result.output
    assert result.output.index("skipped:") < result.output.index(f"built {store}")
    added = runner.invoke(app, ["add", str(corpus), "--store", store])
    assert added.exit_code == 0, added.output
    assert added.output.index("skipped:") < added.output.index("studies added or replaced")


def test_a_30_mb_single_line_record_is_skipped_with_its_file_and_line(tmp_path, tiny_corpus):
    big = tmp_path / "big.jsonl"
    record = {"id": "huge", "title": "A huge record", "abstract": "InSAR landslide LSTM " * 1_500_000}
    big.write_text(json.dumps(record) + "\n")
    assert big.stat().st_size > 30_000_000
    store = str(tmp_path / "store")
    result = runner.invoke(app, ["build", "--corpus", str(big), "--corpus", str(tiny_corpus), "--store", store])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    said = " ".join(result.output.split())  # rich wraps long lines
    assert f"{big}, record line 1: the record's text is" in said and "over the limit" in said
    assert _studies(store) == 4  # the other file still built


def test_a_second_writer_exits_3_at_once_or_waits(tmp_path, tiny_corpus):
    store = str(tmp_path / "store")
    assert runner.invoke(app, ["build", "--corpus", str(tiny_corpus), "--store", store]).exit_code == 0
    store_dir = StoreDir(store)
    with store_dir.lock(holder="lskg serve --allow-update"):
        for args in (["build", "--corpus", str(tiny_corpus)], ["add", str(tiny_corpus)]):
            result = runner.invoke(app, [*args, "--store", store])
            assert result.exit_code == 3, result.output
            said = " ".join(result.output.split())
            assert "locked by `lskg serve --allow-update`" in said and "--wait" in said
    release = threading.Event()

    def hold() -> None:
        with store_dir.lock(holder="lskg build"):
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    threading.Timer(0.5, release.set).start()
    result = runner.invoke(app, ["add", str(tiny_corpus), "--store", store, "--wait", "30"])
    holder.join()
    assert result.exit_code == 0, result.output


def test_add_takes_corpus_as_an_option_too(tmp_path, tiny_corpus):
    """`lskg add --corpus x` as `lskg build --corpus x` (and `lskg extract --corpus x`); nothing given is a user
    error naming the option."""
    store = str(tmp_path / "store")
    assert runner.invoke(app, ["build", "--corpus", str(tiny_corpus), "--store", store]).exit_code == 0
    added = runner.invoke(app, ["add", "--corpus", str(tiny_corpus), "--store", store])
    assert added.exit_code == 0, added.output
    assert "4 studies added or replaced" in added.output and _studies(store) == 4
    nothing = runner.invoke(app, ["add", "--store", store])
    assert nothing.exit_code == 3 and "--corpus" in nothing.output


def test_build_takes_workers_and_ends_with_its_stage_timings(tmp_path, tiny_corpus):
    store = str(tmp_path / "store")
    result = runner.invoke(app, ["build", "--corpus", str(tiny_corpus), "--store", store, "--workers", "2",
                                 "--no-train"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("built in ") and "extract" in last and "(2 workers)" in last and "write" in last
    refused = runner.invoke(app, ["build", "--corpus", str(tiny_corpus), "--store", store, "--workers", "0"])
    assert refused.exit_code != 0 and _studies(store) == 4
    added = runner.invoke(app, ["add", str(tiny_corpus), "--store", store, "--workers", "1"])
    assert added.exit_code == 0, added.output
