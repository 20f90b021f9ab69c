"""The GPU profile of a sandbox and the read-only Hugging Face cache.

`GpuProfile(devices)`: the run's one device list (`AAR_COMPUTE_DEVICES`, the compute queue's
`devices=`): GPU minor numbers, N of /dev/nvidiaN. A command gets the GPUs its compute slot names in the
`CUDA_VISIBLE_DEVICES` of its run environment and nothing else: bubblewrap binds /dev/nvidiaN of those
GPUs plus the control nodes (nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset), read-only
/sys paths the driver libraries look at, and the driver library folders `ldconfig` names outside the
system folders (those are mounted anyway); docker is given `--gpus device=...`. A command with no slot
sees no GPU. Inside, `CUDA_VISIBLE_DEVICES` names the bound GPUs by UUID where the driver tells them
(/proc/driver/nvidia/gpus/*/information), else by their order 0..k-1 (as under docker), and
`CUDA_DEVICE_ORDER=PCI_BUS_ID`.

Device nodes cannot be mounted read-only and stay usable (a read-only remount adds nodev): they are bound
on a read-only /dev, so a command can use them but not remove, rename or chmod them.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from aar.compute import devices_from_env, parse_devices
from aar.sandbox.base import SandboxError

CONTROL_NODES = ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset")
SYS_PATHS = ("/sys/bus/pci", "/sys/devices", "/sys/module/nvidia", "/sys/module/nvidia_uvm")
SYSTEM_PREFIXES = ("/usr/", "/lib/", "/lib64/", "/lib32/", "/bin/", "/sbin/")
HF_TARGET = Path("/aar/hf")


@dataclass(frozen=True)
class GpuProfile:
    devices: tuple[str, ...]
    dev_root: Path = Path("/dev")  # where the host's nodes are (tests: a folder of stand-in nodes)
    driver_root: Path = Path("/proc/driver/nvidia")
    sys_paths: tuple[str, ...] = SYS_PATHS

    def select(self, visible: str | None) -> list[str]:
        """The host GPUs a command asks for (its CUDA_VISIBLE_DEVICES); only the profile's are allowed."""
        wanted = parse_devices(visible)
        extra = [d for d in wanted if d not in self.devices]
        if extra:
            raise SandboxError(
                f"CUDA_VISIBLE_DEVICES names GPUs {extra} outside the sandbox's {list(self.devices)}")
        return wanted

    def nodes(self, selected: list[str]) -> list[tuple[Path, Path]]:
        """(host node, node inside) for the selected GPUs and the control nodes; none without a GPU."""
        if not selected:
            return []
        names = [*CONTROL_NODES, *(f"nvidia{d}" for d in selected)]
        return [(self.dev_root / n, Path("/dev") / n) for n in names if _is_char_device(self.dev_root / n)]

    def uuids(self) -> dict[str, str]:
        """GPU minor -> UUID, from the driver's /proc files ({} where they are not there)."""
        out: dict[str, str] = {}
        for info in sorted(self.driver_root.glob("gpus/*/information")):
            try:
                text = info.read_text()
            except OSError:
                continue
            minor = re.search(r"Device Minor:\s*(\d+)", text)
            uuid = re.search(r"GPU UUID:\s*(\S+)", text)
            if minor and uuid:
                out[minor.group(1)] = uuid.group(1)
        return out

    def env(self, selected: list[str]) -> dict[str, str]:
        """The CUDA environment inside for the selected GPUs (empty selection: no GPU visible)."""
        uuids = self.uuids()
        if selected and all(d in uuids for d in selected):
            visible = ",".join(uuids[d] for d in selected)
        else:
            visible = ",".join(str(i) for i in range(len(selected)))
        return {"CUDA_VISIBLE_DEVICES": visible, "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}

    def library_dirs(self) -> list[Path]:
        return driver_library_dirs()


def _is_char_device(path: Path) -> bool:
    """Only character devices are bound (a regular file there would be a writable path outside the quota)."""
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


@functools.cache
def driver_library_dirs() -> list[Path]:
    """Folders of libcuda / libnvidia-* from `ldconfig -p` that are not under the system folders."""
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    dirs: set[Path] = set()
    for line in out.splitlines():
        name, _, path = line.partition("=>")
        if re.search(r"\blib(cuda|nvidia-[\w-]+)\.so", name) and path.strip():
            d = Path(path.strip()).parent
            if not any(str(d).startswith(p) or str(d) == p.rstrip("/") for p in SYSTEM_PREFIXES):
                dirs.add(d)
    return sorted(dirs)


def gpu_profile_from_env() -> GpuProfile | None:
    """The GPU profile of the run's device list ($AAR_COMPUTE_DEVICES); None on CPU runs."""
    devices = devices_from_env()
    return GpuProfile(tuple(devices)) if devices else None


@dataclass(frozen=True)
class HfCache:
    """A Hugging Face hub cache (None: none on this host) shown read-only at /aar/hf/hub, offline."""

    source: Path | None

    @property
    def target(self) -> Path:
        return HF_TARGET / "hub"

    def env(self) -> dict[str, str]:
        return {"HF_HOME": str(HF_TARGET), "HF_HUB_CACHE": str(self.target), "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


def default_hf_cache() -> HfCache:
    """The host's hub cache: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. Only the hub
    folder is mounted: HF_HOME also holds the user's access token."""
    if os.environ.get("HF_HUB_CACHE"):
        hub = Path(os.environ["HF_HUB_CACHE"])
    else:
        home = Path(os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface")
        hub = home / "hub"
    return HfCache(hub.resolve() if hub.is_dir() else None)
