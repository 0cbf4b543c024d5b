"""Global fixtures: settings in a temporary folder, the tiny corpus, built stores."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from lskg.settings import Settings

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SHARED = REPO.parent / "shared"
SEED_DIR = SHARED / "seeds"


@pytest.fixture
def tiny_corpus() -> Path:
    return DATA / "tiny_corpus.jsonl"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store=str(tmp_path / "store"))


@pytest.fixture
def tiny_store(settings: Settings, tiny_corpus: Path):
    """An on-disk store built from the tiny corpus, opened read-only."""
    from lskg.build import build
    from lskg.kg import open_store

    build([tiny_corpus], settings)
    with open_store(settings.store) as store:
        yield store


@pytest.fixture
def seed_text() -> Path:
    files = sorted(SEED_DIR.glob("*.txt")) if SEED_DIR.is_dir() else []
    if not files:
        pytest.skip("the seed review text (../shared/seeds/) is not available")
    return files[0]


@dataclass(frozen=True)
class InstalledWheel:
    """lskg built as a wheel from the working tree and installed alone in a fresh venv."""

    names: tuple[str, ...]
    """The files in the wheel."""
    python: Path
    """The venv's interpreter."""
    venv: Path
    deps: str
    """This environment's site-packages, for a script to append after the venv's own (the wheel has no deps)."""

    def run(self, script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.python, "-c", script], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> InstalledWheel:
    """Built and installed once for the packaging tests (a wheel build and a venv take most of a minute)."""
    root = tmp_path_factory.mktemp("wheel")
    # tracked and new (not ignored) files, symlinks kept: what the next commit holds, without local build leftovers
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout
    source, dist = root / "src", root / "dist"
    for name in filter(None, files.decode().split("\0")):
        origin, target = REPO / name, source / name
        if not origin.exists() and not origin.is_symlink():
            continue  # deleted in the working tree
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, target, follow_symlinks=False)
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(source)],
                   check=True, capture_output=True)
    wheel = next(dist.glob("lskg-*.whl"))
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    return InstalledWheel(tuple(zipfile.ZipFile(wheel).namelist()), python, env_dir,
                          sysconfig.get_paths()["purelib"])
