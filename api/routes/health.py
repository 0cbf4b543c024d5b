"""``/health``: is the server up, and how are its query workers confined (network, memory)?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from lskg.api.deps import get_state

router = APIRouter(tags=["stats"])


@router.get("/health", summary="Liveness and the query workers' confinement")
async def health(request: Request) -> dict[str, Any]:
    """`workers.network` says how the query workers were cut off the network (null: they were not),
    `workers.memory_mib` their memory limit; `store.generation` the data folder served."""
    state = get_state(request)
    pool = state.pool
    return {"status": "ok", "updates": state.settings.allow_update,
            "store": {"generation": state.live, "remote": state.store_dir is None},
            "workers": {"size": pool.size, "alive": getattr(pool, "alive", pool.size),
                        "writable": getattr(pool, "writable", False), "replaced": pool.replaced,
                        "network": pool.confinement.network, "memory_mib": pool.confinement.memory_mib},
            "training": state.training.status() if state.training is not None else None}
