"""The run's artifact store: a named Ray actor on the head node holding the packed public data and model
blobs (`aar.cluster.bundles`); nodes fetch a blob by digest once and keep it in their own cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NAMESPACE = "aar"


def store_name(run_key: str) -> str:
    return f"aar-artifacts-{run_key}"


class ArtifactStore:
    """Blobs by sha256 (the actor's state; the head publishes, any node fetches)."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.fetches: dict[str, int] = {}

    def has(self, d: str) -> bool:
        return d in self.blobs

    def put(self, d: str, data: bytes) -> None:
        from aar.cluster.bundles import digest

        if digest(data) != d:
            raise ValueError(f"blob does not hash to {d[:12]}")
        self.blobs[d] = data

    def get(self, d: str) -> bytes:
        if d not in self.blobs:
            raise KeyError(f"no artifact {d[:12]} in the run's store")
        self.fetches[d] = self.fetches.get(d, 0) + 1
        return self.blobs[d]

    def stats(self) -> dict[str, Any]:
        return {
            "blobs": len(self.blobs),
            "bytes": sum(map(len, self.blobs.values())),
            "fetches": self.fetches,
        }


def connect(address: str | None) -> None:
    """Join the Ray cluster at `address` (idempotent; quiet: a worker's output stays in its own log)."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, include_dashboard=False)


def start_store(run_key: str) -> Any:
    """Create the run's store on this (the head's) node; it lives as long as the calling driver."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = ray.get_runtime_context().get_node_id()
    cls = ray.remote(num_cpus=0)(ArtifactStore)
    actor = cls.options(
        name=store_name(run_key),
        namespace=NAMESPACE,
        get_if_exists=True,
        scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False),
    ).remote()
    ray.get(actor.stats.remote())
    return actor


def get_store(run_key: str) -> Any:
    import ray

    return ray.get_actor(store_name(run_key), namespace=NAMESPACE)


def packer(store: Any):  # noqa: ANN201 - aar.cluster.bundles.Packer
    import ray

    from aar.cluster.bundles import Packer

    return Packer(
        put=lambda d, data: ray.get(store.put.remote(d, data)),
        has=lambda d: ray.get(store.has.remote(d)),
    )


def node_public(bundle: dict, run_key: str) -> Path:
    """On a node: the bundle's public dir in this node's cache, fetched from the store if missing."""
    import ray

    from aar.cluster.bundles import materialize
    from aar.cluster.node import node_cache

    store = get_store(run_key)
    return materialize(bundle, node_cache(), lambda d: ray.get(store.get.remote(d)))
