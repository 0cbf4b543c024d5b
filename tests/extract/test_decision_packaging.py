"""The trained decision stage ships in the wheel and loads from the installed package with no network."""

from __future__ import annotations

from tests.conftest import InstalledWheel


def test_the_decision_model_loads_from_the_installed_wheel_offline(installed_wheel: InstalledWheel, tmp_path) -> None:
    names = installed_wheel.names
    for expected in ("lskg/extract/models/decision-v1.json", "lskg/extract/models/review-kind-v1.json",
                     "lskg/ontology/events.ttl", "lskg/extract/decision.py", "lskg/kg/queries/method_step_counts.rq"):
        assert expected in names, expected
    script = f"""
import socket, sys
sys.path.append({installed_wheel.deps!r})
def no_network(*args, **kwargs):
    raise RuntimeError("network used")
socket.socket.connect = no_network
socket.create_connection = no_network
import lskg.extract.decision as decision
assert {str(installed_wheel.venv)!r} in decision.__file__, decision.__file__
from lskg.extract.document import Document
from lskg.extract.pipeline import Extractor
from lskg.records import Study
model = decision.DecisionModel.load()
assert model.version.startswith("lskg.decision.v1")
study = Study(id="t", title="Landslides of the 2017 Jiuzhaigou earthquake",
              abstract="We map the landslides with a U-Net from Sentinel-2 images.", source="t")
(facts,) = Extractor(decide=True).run([Document.of_record(study)])
assert any(f.label == "earthquake-induced landslide" for f in facts.facts), facts.facts
print("ok")
"""
    result = installed_wheel.run(script, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
