"""The wheel installs everything under the one `lskg` import root, with its data files."""

from __future__ import annotations

from tests.conftest import InstalledWheel


def test_wheel_installs_under_one_namespace_in_a_fresh_venv(installed_wheel: InstalledWheel, tmp_path):
    names = installed_wheel.names
    top = {n.split("/", 1)[0] for n in names}
    assert top == {"lskg", next(t for t in top if t.endswith(".dist-info"))}, top
    for expected in ("lskg/kg/store.py", "lskg/ontology/lskg.ttl", "lskg/ontology/shapes.ttl",
                     "lskg/kg/queries/models_for_context.rq", "lskg/data/corpus/review-summaries.jsonl"):
        assert expected in names, expected

    script = f"""
import sys
sys.path.append({installed_wheel.deps!r})
import lskg, lskg.kg, lskg.ontology, lskg.extract, lskg.gnn, lskg.api
assert {str(installed_wheel.venv)!r} in lskg.__file__, lskg.__file__
from lskg.ontology import concept_index
assert len(concept_index()) > 100
for generic in ("kg", "api", "gnn", "extract", "ontology"):
    try:
        __import__(generic)
    except ModuleNotFoundError:
        pass
    else:
        raise SystemExit("top-level module leaked: " + generic)
print("ok")
"""
    result = installed_wheel.run(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
