"""The name of the machine a piece of work runs on, and that machine's own cache folder."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def node_name() -> str:
    """`$AAR_NODE` when set (a cluster's nodes can be given names), else the host name; inside a Ray
    worker without `$AAR_NODE`, the host name and the first characters of the Ray node id, so two
    Ray nodes on one host stay apart."""
    name = os.environ.get("AAR_NODE")
    if name:
        return name
    host = socket.gethostname()
    if "ray" in __import__("sys").modules:
        import ray

        if ray.is_initialized():
            return f"{host}-{ray.get_runtime_context().get_node_id()[:6]}"
    return host


def node_cache() -> Path:
    """This node's cache root (`$AAR_CACHE`, else ~/.cache/aar): artifacts, feature caches, agent dirs."""
    from aarlab.paths import cache_dir

    return cache_dir()
