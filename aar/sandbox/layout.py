"""The research view: one layout inside every research sandbox, an agent's or an overseer re-run's.

    /workspace            the writable workspace (cwd, HOME)
    /aar/data             a staged public data dir (read-only)
    /aar/models/weak      the weak model (read-only; an HF name needs no mount)
    /aar/models/strong    the strong model (read-only)
    /aar/cache/features   features and zero-shot outputs of the view's models on its texts, computed by
                          trusted code (read-only; `aar.sandbox.view_cache`)
    /aar/server.sock      the server (agents only; read-only)
    /aar/hf/hub           the host's Hugging Face hub cache (read-only; HF_HUB_OFFLINE=1)

The staged data dir is built by `stage_data` from a task's public dir: the same file names and the
same meta.json keys for every draw and every kind of run (no draw name, no secret fingerprint, no
weak accuracy measured on hidden labels), model paths pointing at the neutral mounts. So the paths,
names and metadata an idea sees are the same whether an agent runs it or the overseer re-checks it.
`research_spec` is the one spec builder that agents, the overseer and `aar sandbox check` use.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from aar.sandbox.base import Limits, Mount, SandboxSpec
from aar.sandbox.gpu import GpuProfile, HfCache, default_hf_cache, gpu_profile_from_env

WORKSPACE = Path("/workspace")
DATA = Path("/aar/data")
MODELS = Path("/aar/models")
CACHE = Path("/aar/cache")
SOCKET = Path("/aar/server.sock")
ROLES = ("weak", "strong")
COPY_LIMIT = 256 * 1024 * 1024  # model dirs up to this size are copied per view (fresh inodes, same mtimes)
META_KEYS = ("task", "size", "description", "n", "models", "seeds", "reference_mode", "baselines")
DATA_FILES = ("train_label.jsonl", "train_unlabel.jsonl", "test.jsonl")
COPY_MODELS_MB = 64


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


@dataclass(frozen=True)
class TaskView:
    """What one research sandbox sees of a task: a staged data dir and the models behind the mounts."""

    data: Path
    models: dict[str, str] = field(default_factory=dict)  # role -> host dir (or an HF model name)

    @property
    def cache(self) -> Path:
        """Host folder mounted at /aar/cache (filled by `aar.sandbox.view_cache.fill_view_cache`)."""
        return self.data.with_name(self.data.name + ".cache")

    def mounts(self) -> list[Mount]:
        """The data dir and its feature cache are copied in (no host path such as an agent's name or a run
        label in mountinfo); so are models up to COPY_MODELS_MB (the zoo's: their host paths, which differ for
        a knowledge-removed model, stay out of mountinfo too, and their 0600 weights need no grant); larger
        ones are bound."""
        out = [Mount(self.data, DATA, copy=True), Mount(self.cache, CACHE, copy=True)]
        for role, model in sorted(self.models.items()):
            if Path(model).is_absolute() and Path(model).exists():  # a missing dir fails when loaded
                small = _tree_bytes(Path(model)) <= COPY_MODELS_MB << 20
                out.append(Mount(Path(model), MODELS / role, copy=small))
        return out


def neutral_model(model: str, role: str) -> str:
    """The path an idea sees for a model: the neutral mount for a local dir, the name for an HF name."""
    return str(MODELS / role) if Path(model).is_absolute() else model


def stage_data(public: Path, dest: Path, *, weak: dict[int, list[float]] | None = None,
               models: dict[str, str] | None = None, neutral_paths: bool = True) -> TaskView:
    """Copy `public` (a `<task>/<draw>/public` dir) into `dest` in the neutral form; `weak` replaces the
    weak soft labels per seed (e.g. shuffled), `models` replaces the host model dirs behind the mounts
    (e.g. a strong model with no task knowledge). Local model dirs up to COPY_LIMIT are copied next to
    `dest` (`<dest>.models/<role>`, modification times kept), so no inode or path tells one view's model
    from another's. `neutral_paths=False` (sandbox kind `none`, which cannot place mounts) names the
    host model dirs instead. Returns the view to mount."""
    public, dest = Path(public), Path(dest)
    copies = dest.with_name(dest.name + ".models")
    for old in (dest, copies, dest.with_name(dest.name + ".cache")):
        if old.exists():
            shutil.rmtree(old)
    (dest / "weak").mkdir(parents=True)
    (dest.with_name(dest.name + ".cache") / "features").mkdir(parents=True)
    meta = json.loads((public / "meta.json").read_text())
    host_models = {r: str(m) for r, m in (meta.get("models") or {}).items() if r in ROLES}
    host_models.update(models or {})
    for role, model in host_models.items():
        src = Path(model)
        if src.is_absolute() and src.is_dir() and _tree_bytes(src) <= COPY_LIMIT:
            shutil.copytree(src, copies / role, copy_function=shutil.copy2)
            host_models[role] = str(copies / role)
    neutral = {k: meta[k] for k in META_KEYS if k in meta}
    neutral["models"] = {r: neutral_model(m, r) if neutral_paths else m for r, m in host_models.items()}
    (dest / "meta.json").write_text(json.dumps(neutral, indent=1, sort_keys=True))
    for name in DATA_FILES:
        shutil.copyfile(public / name, dest / name)
    for path in sorted((public / "weak").glob("seed*.json")):
        doc = json.loads(path.read_text())
        seed = int(doc["seed"])
        probs = (weak or {}).get(seed, doc["train_unlabel"])
        (dest / "weak" / path.name).write_text(json.dumps({"seed": seed, "train_unlabel": list(probs)}))
    return TaskView(dest, host_models)


def research_spec(workspace: Path, view: TaskView | None, *, socket: Path | None = None,
                  limits: Limits | None = None, gpu: GpuProfile | bool | None = None,
                  hf_cache: HfCache | bool | None = None) -> SandboxSpec:
    """The sandbox spec of every research sandbox: the workspace at /workspace, the view's data and
    models at their neutral paths, the server (if any) at /aar/server.sock, the host's Hugging Face hub
    cache read-only at /aar/hf/hub (offline; an empty folder where the host has none) and, on GPU runs,
    the GPU profile.

    `gpu=None` takes the profile from the run's one device list ($AAR_COMPUTE_DEVICES: on when set),
    `hf_cache=None` the host's cache, so every sandbox of a run (agents, overseer, `aar sandbox check`)
    gets the same; `False` leaves either out."""
    profile = gpu_profile_from_env() if gpu is None or gpu is True else (gpu or None)
    if gpu is True and profile is None:
        raise ValueError("gpu=True needs a device list ($AAR_COMPUTE_DEVICES)")
    cache = default_hf_cache() if hf_cache is None or hf_cache is True else (hf_cache or None)
    return SandboxSpec(
        workspace=Path(workspace),
        mounts=view.mounts() if view is not None else [],
        socket_path=socket,
        limits=limits or Limits(),
        workspace_target=WORKSPACE,
        socket_target=SOCKET if socket is not None else None,
        gpu=profile,
        hf_cache=cache,
    )
