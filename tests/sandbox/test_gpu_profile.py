"""The GPU profile, tested by spec, argv and stand-in device nodes (no GPU on this machine: links to
/dev/null stand in for /dev/nvidia*, so what is checked is which nodes a command gets and how, not CUDA),
the read-only Hugging Face cache, and the one device list (`AAR_COMPUTE_DEVICES`) reaching the sandboxes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from aar.compute import ComputeQueue, devices_from_env
from aar.sandbox import Limits, SandboxError, SandboxSpec, make_sandbox
from aar.sandbox.docker import DockerSandbox
from aar.sandbox.gpu import GpuProfile, HfCache, default_hf_cache, driver_library_dirs
from aar.sandbox.layout import research_spec
from aar.sandbox.users import SandboxUser

SMALL = Limits(cpu_seconds=20, memory_mb=256, max_procs=32, wall_seconds=20, disk_mb=8, tmp_mb=4, shm_mb=4)


@pytest.fixture()
def fake_dev(tmp_path: Path) -> Path:
    dev = tmp_path / "dev"
    dev.mkdir()
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"):
        (dev / name).symlink_to("/dev/null")
    (dev / "nvidia-modeset").write_text("a regular file is never bound\n")
    return dev


def _box(tmp_path: Path, profile: GpuProfile):
    ws = tmp_path / "a" / "workspace"
    ws.mkdir(parents=True, exist_ok=True)
    return make_sandbox("bwrap", SandboxSpec(ws, [], None, SMALL, gpu=profile, hf_cache=None))


def test_a_command_gets_the_nodes_of_its_slot_only(tmp_path: Path, fake_dev: Path) -> None:
    sb = _box(tmp_path, GpuProfile(("0", "1"), dev_root=fake_dev))
    res = sb.run("ls /dev | grep nvidia; echo CVD=$CUDA_VISIBLE_DEVICES ORDER=$CUDA_DEVICE_ORDER; "
                 "echo data > /dev/nvidia1 && echo wrote; rm -f /dev/nvidia1; chmod 000 /dev/nvidiactl; "
                 "ls /sys/bus/pci/devices > /dev/null && echo sys-ok; echo 1 > /sys/bus/pci/rescan; "
                 "ls /sys/fs/cgroup", env={"CUDA_VISIBLE_DEVICES": "1"})
    lines = res.stdout.splitlines()
    assert lines[:3] == ["nvidia-uvm", "nvidia1", "nvidiactl"]  # not nvidia0, not the regular file
    assert "CVD=0 ORDER=PCI_BUS_ID" in lines and "wrote" in lines and "sys-ok" in lines
    assert res.stderr.count("Read-only file system") == 2, res.stderr  # rm, /sys
    assert "changing permissions of '/dev/nvidiactl': Operation not permitted" in res.stderr  # not its owner
    assert "/sys/fs/cgroup" in res.stderr  # only the /sys paths the driver reads are there


def test_no_slot_no_gpu_and_no_foreign_gpu(tmp_path: Path, fake_dev: Path) -> None:
    sb = _box(tmp_path, GpuProfile(("0",), dev_root=fake_dev))
    res = sb.run("ls /dev | grep -c nvidia; ls /sys 2>&1 | head -1; echo CVD=$CUDA_VISIBLE_DEVICES")
    assert res.stdout.splitlines()[0] == "0" and "CVD=\n" in res.stdout + "\n"
    with pytest.raises(SandboxError, match=r"outside the sandbox's \['0'\]"):
        sb.run("true", env={"CUDA_VISIBLE_DEVICES": "1"})


def test_gpus_are_named_by_uuid_where_the_driver_tells(tmp_path: Path, fake_dev: Path) -> None:
    driver = tmp_path / "driver"
    for minor, bus in (("0", "0000:01:00.0"), ("1", "0000:02:00.0")):
        (driver / "gpus" / bus).mkdir(parents=True)
        (driver / "gpus" / bus / "information").write_text(
            f"Model: Stand-in\nGPU UUID: GPU-{minor}abc\nBus Location: {bus}\nDevice Minor: {minor}\n")
    profile = GpuProfile(("0", "1"), dev_root=fake_dev, driver_root=driver)
    assert profile.env(["1", "0"])["CUDA_VISIBLE_DEVICES"] == "GPU-1abc,GPU-0abc"
    res = _box(tmp_path, profile).run("echo $CUDA_VISIBLE_DEVICES", env={"CUDA_VISIBLE_DEVICES": "0,1"})
    assert res.stdout.strip() == "GPU-0abc,GPU-1abc"


def test_driver_libraries_outside_the_system_folders_are_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    out = ("\t3 libs found in cache `/etc/ld.so.cache'\n"
           "\tlibnvidia-ml.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1\n"
           "\tlibcuda.so.1 (libc6,x86-64) => /opt/nvidia/driver/lib64/libcuda.so.1\n"
           "\tlibcudart.so.13 (libc6,x86-64) => /usr/local/cuda/lib/libcudart.so.13\n")
    monkeypatch.setattr("aar.sandbox.gpu.subprocess.run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout=out, stderr=""))
    driver_library_dirs.cache_clear()
    try:
        assert driver_library_dirs() == [Path("/opt/nvidia/driver/lib64")]  # /usr is mounted anyway
    finally:
        driver_library_dirs.cache_clear()


def test_the_device_list_turns_the_profile_on(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AAR_COMPUTE_DEVICES", raising=False)
    assert research_spec(tmp_path / "w", None).gpu is None
    with pytest.raises(ValueError, match="device list"):
        research_spec(tmp_path / "w", None, gpu=True)
    monkeypatch.setenv("AAR_COMPUTE_DEVICES", "0,3")
    assert research_spec(tmp_path / "w", None).gpu == GpuProfile(("0", "3"))
    assert research_spec(tmp_path / "w", None, gpu=False).gpu is None
    assert devices_from_env() == ["0", "3"] and devices_from_env("1") == ["1"]
    monkeypatch.setenv("AAR_COMPUTE_DEVICES", "GPU-abc")
    with pytest.raises(ValueError, match="minor numbers"):
        devices_from_env()


def test_the_overseer_reads_the_device_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from aar.overseer.__main__ import build, parse

    (tmp_path / "admin_token").write_text("tok")
    monkeypatch.setenv("AAR_COMPUTE_DEVICES", "2,5")
    argv = ["--run-dir", str(tmp_path), "--tasks-dir", str(tmp_path), "--uds", str(tmp_path / "s")]
    ov = build(parse(argv))
    queue = ov.runner.queue
    assert queue.devices == ["2", "5"] and queue.slots == 2
    with queue.slot("overseer", "x") as slot:
        assert slot.env["CUDA_VISIBLE_DEVICES"] in ("2", "5")


def test_the_searchers_slot_env_reaches_the_sandbox(tmp_path: Path) -> None:
    """The searcher hands its slot's env (its GPU) to the sandbox, where the profile binds that GPU."""
    from aar.agents.audit import AuditLog
    from aar.agents.searcher.actions import Actions
    from aar.agents.tools import ToolSet

    seen: list[dict] = []

    class Box:
        spec = SandboxSpec(tmp_path)

        def run(self, command, timeout=None, env=None):  # noqa: ANN001, ANN201
            seen.append(dict(env or {}))
            return make_sandbox("none", SandboxSpec(tmp_path), allow_unsafe=True).run("true")

    tools = ToolSet(Box(), None, tmp_path, AuditLog(tmp_path / "audit.jsonl", "s"), "t")
    Actions(tools, tmp_path).bash("true", env={"CUDA_VISIBLE_DEVICES": "1", "OMP_NUM_THREADS": "2"})
    assert seen == [{"CUDA_VISIBLE_DEVICES": "1", "OMP_NUM_THREADS": "2"}]
    q = ComputeQueue(tmp_path / "q", 1, devices=devices_from_env("4"))
    with q.slot("searcher", "idea") as slot:
        assert slot.env["CUDA_VISIBLE_DEVICES"] == "4"


def test_docker_gets_the_slots_gpus(tmp_path: Path) -> None:
    from aar.sandbox.docker import write_env_file

    ws = tmp_path / "ws"
    ws.mkdir()
    sb = DockerSandbox.__new__(DockerSandbox)
    sb.spec = SandboxSpec(ws, [], None, SMALL, gpu=GpuProfile(("0", "1")))
    sb.docker, sb.image = "docker", "img"
    sb.user = SandboxUser(1234, 1234)
    env = sb.base_env({"CUDA_VISIBLE_DEVICES": "1"})
    argv = sb.argv("nvidia-smi", write_env_file(tmp_path / "env", env), "n", {"CUDA_VISIBLE_DEVICES": "1"})
    assert argv[argv.index("--gpus") + 1] == '"device=1"' and env["CUDA_VISIBLE_DEVICES"] == "0"
    assert "--gpus" not in sb.argv("true", tmp_path / "env", "n", {})


def test_the_hf_cache_is_mounted_read_only_and_offline(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "hf"
    (home / "hub" / "models--tiny").mkdir(parents=True)
    (home / "hub" / "models--tiny" / "config.json").write_text("{}")
    (home / "token").write_text("hf_secret_token")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    cache = default_hf_cache()
    assert cache == HfCache((home / "hub").resolve())
    ws = tmp_path / "a" / "workspace"
    ws.mkdir(parents=True)
    sb = make_sandbox("bwrap", research_spec(ws, None, hf_cache=cache, gpu=False))
    res = sb.run("cat $HF_HUB_CACHE/models--tiny/config.json; echo; echo $HF_HOME $HF_HUB_OFFLINE "
                 "$TRANSFORMERS_OFFLINE; ls $HF_HOME; touch $HF_HUB_CACHE/x; cat /aar/hf/token")
    assert res.stdout.splitlines()[:3] == ["{}", "/aar/hf 1 1", "hub"]
    assert "Read-only file system" in res.stderr and "hf_secret_token" not in res.stdout
    monkeypatch.setenv("HF_HOME", str(tmp_path / "none"))
    empty = make_sandbox("bwrap", research_spec(ws, None, gpu=False))  # no cache here: empty, same path
    assert empty.run("ls -A /aar/hf/hub | wc -l; echo $HF_HUB_OFFLINE").stdout.split() == ["0", "1"]
    assert os.environ["HF_HOME"] == str(tmp_path / "none")
