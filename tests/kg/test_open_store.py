"""One way to open the store from the settings: `open_store(settings, write=...)` takes the store, update and
graph store URLs from the settings, and `is_remote` is the one URL-or-folder decision."""

from __future__ import annotations

from lskg.kg import open_store
from lskg.kg.store import RemoteStore, StoreDir, is_remote
from lskg.settings import Settings


def test_is_remote() -> None:
    assert is_remote("http://127.0.0.1:7878/query") and is_remote("https://example.org/sparql")
    assert not is_remote("./my-store") and not is_remote(None) and not is_remote("httpfolder")


def test_open_store_from_settings_keeps_the_update_and_graph_store_urls() -> None:
    settings = Settings(store="http://127.0.0.1:9/query", update_url="http://127.0.0.1:9/other-update",
                        gsp_url="http://127.0.0.1:9/other-gsp")
    store = open_store(settings, write=True)
    assert isinstance(store, RemoteStore) and not store.read_only
    assert (store.update_url, store.gsp_url) == (settings.update_url, settings.gsp_url)
    assert open_store(settings).read_only


def test_open_store_from_settings_on_a_folder(tmp_path) -> None:
    root = tmp_path / "store"
    with StoreDir(root).rebuild():
        pass
    settings = Settings(store=str(root))
    with open_store(settings) as reader:
        assert reader.read_only and len(reader) == 0
