"""One settings object: defaults < environment (``LSKG_*``) < CLI flags. Never instantiated at import."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LSKG_", extra="ignore")

    store: str = Field("lskg-store", description="Store directory (embedded pyoxigraph) or http(s) URL of a "
                                                 "SPARQL 1.1 server's query endpoint")
    update_url: str | None = Field(None, description="SPARQL Update endpoint of a remote store "
                                                     "(default: derived from the query URL)")
    gsp_url: str | None = Field(None, description="Graph Store Protocol endpoint of a remote store "
                                                  "(default: derived from the query URL)")
    host: str = Field("127.0.0.1", description="Address `lskg serve` listens on")
    port: int = Field(8000, description="Port `lskg serve` listens on")
    query_timeout: float = Field(10.0, description="Seconds a SPARQL query may run before it is stopped")
    max_rows: int = Field(100_000, description="Largest result a SPARQL query may return (rows)")
    query_workers: int = Field(2, description="Worker processes that evaluate SPARQL queries for the API")
    query_queue: int = Field(64, description="SPARQL queries that may wait for a free worker before the API "
                                             "answers 503 (overloaded, with Retry-After)")
    max_result_bytes: int = Field(256 * 2**20, description="Largest serialised SPARQL result the API sends (bytes)")
    max_query_bytes: int = Field(256 * 1024, description="Longest SPARQL query or update the API accepts (bytes)")
    max_query_depth: int = Field(64, description="Deepest nesting of ( { [ in a SPARQL request the API parses")
    worker_memory_mib: int = Field(2048, description="Address-space limit of each query worker process (MiB; "
                                                     "0: none)")
    base_url: str | None = Field(None, description="The server's public URL (e.g. https://kg.example.org), used "
                                                   "for absolute URLs; default: from the validated Host header")
    allow_update: bool = Field(False, description="Accept SPARQL Update and Graph Store writes on the API")
    update_token: str | None = Field(None, description="Bearer token required for updates (from LSKG_UPDATE_TOKEN "
                                                       "or `lskg serve --token-file`, never the command line)")
    artifacts: str | None = Field(None, description="Directory of trained recommender artefacts "
                                                    "(default: <store>/../<store-name>-models or beside it)")
    seed: int = Field(0, description="Random seed for training")
    recommender: str = Field("cooccurrence", description="The recommender `lskg build` fits on a new graph: the default measured on the real corpus (docs/recommendation.md); `lskg train` re-selects by evaluation")
    decide: bool = Field(True, description="Extraction: let the learned decision stage (lskg.decision.v1) decide "
                                           "which candidate concepts are a study's facts (on by default: it beats "
                                           "rules-only on every facet in cross-validation, docs/extraction.md); "
                                           "LSKG_DECIDE=0: the rule components' facts as they are")
    extract_workers: int = Field(default_factory=lambda: min(2, cores()), ge=1,
                                 description="Processes that extract studies in `lskg build` and `lskg add` "
                                             "(default: 2, or 1 on a single core; a corpus of up to 16 studies is "
                                             "extracted in-process; docs/performance.md)")

    @property
    def is_remote(self) -> bool:
        return self.store.startswith(("http://", "https://"))

    @property
    def artifact_dir(self) -> Path:
        if self.artifacts:
            return Path(self.artifacts)
        if self.is_remote:
            return Path("lskg-models")
        return Path(self.store) / "models"
