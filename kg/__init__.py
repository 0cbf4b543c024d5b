"""The knowledge graph: RDF mapping of studies and facts, the store (embedded or remote), named queries and
SHACL validation."""

from lskg.kg.store import EmbeddedStore, RemoteStore, Store, StoreDir, open_store

__all__ = ["EmbeddedStore", "RemoteStore", "Store", "StoreDir", "open_store"]
