"""The trained decision stage ships in the wheel and loads from the installed package with no network."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile

from tests.conftest import REPO


def _working_copy(dest):
    """Tracked and new (not ignored) files of the working tree: what the next commit will hold."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source, target = REPO / name, dest / name
        if not source.exists() and not source.is_symlink():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return dest


def test_the_decision_model_loads_from_the_installed_wheel_offline(tmp_path) -> None:
    dist = tmp_path / "dist"
    source = _working_copy(tmp_path / "src")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(source)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("lskg-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for expected in ("lskg/extract/models/decision-v1.json", "lskg/extract/models/review-kind-v1.json",
                     "lskg/ontology/events.ttl", "lskg/extract/decision.py", "lskg/kg/queries/method_step_counts.rq"):
        assert expected in names, expected
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    deps = sysconfig.get_paths()["purelib"]
    script = f"""
import socket, sys
sys.path.append({deps!r})
def no_network(*args, **kwargs):
    raise RuntimeError("network used")
socket.socket.connect = no_network
socket.create_connection = no_network
import lskg.extract.decision as decision
assert {str(env_dir)!r} in decision.__file__, decision.__file__
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
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
