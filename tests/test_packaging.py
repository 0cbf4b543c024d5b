"""The wheel installs everything under the one `lskg` import root, with its data files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile

from tests.conftest import REPO


def _tracked_copy(dest):
    """The repository's tracked files (symlinks kept), so local build leftovers cannot leak into the wheel."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source, target = REPO / name, dest / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return dest


def test_wheel_installs_under_one_namespace_in_a_fresh_venv(tmp_path):
    dist = tmp_path / "dist"
    source = _tracked_copy(tmp_path / "src")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(source)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("lskg-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names}
    assert top == {"lskg", next(t for t in top if t.endswith(".dist-info"))}, top
    for expected in ("lskg/kg/store.py", "lskg/ontology/lskg.ttl", "lskg/ontology/shapes.ttl",
                     "lskg/kg/queries/models_for_context.rq", "lskg/data/corpus/review-summaries.jsonl"):
        assert expected in names, expected

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    deps = sysconfig.get_paths()["purelib"]  # this environment's dependencies, appended after the fresh venv's
    script = f"""
import sys
sys.path.append({deps!r})
import lskg, lskg.kg, lskg.ontology, lskg.extract, lskg.gnn, lskg.api
assert {str(env_dir)!r} in lskg.__file__, lskg.__file__
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
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
