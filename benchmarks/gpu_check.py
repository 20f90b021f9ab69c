"""Run the `hf` backend inside the GPU bubblewrap sandbox on a tiny local model and print what ran where.

Usage: python benchmarks/gpu_check.py [--budget 300] [--cpu]

Without a GPU (no /dev/nvidia<N>, or torch sees no CUDA device) it says so and exits 0. With one it:
builds the tiny Llama of tests/w2s/tiny_hf.py (no download), takes a compute slot from a queue over the
device list ($AAR_COMPUTE_DEVICES, else every /dev/nvidia<N>), opens a research sandbox with the GPU profile
(that slot's device nodes, driver libraries, read-only /sys paths, the HF cache read-only and offline),
and inside it loads the model in bf16 on cuda, extracts probe features and fits a probe, LoRA-finetunes,
then prints the host's and the sandbox's view of the GPU (names, CUDA_VISIBLE_DEVICES, device count),
the dtype, accuracies and timings. Exits 1 if anything failed or the whole check passed `--budget` seconds.
`--cpu` runs the same sandboxed check on the CPU (float32: bf16 is emulated there; 2 LoRA epochs, not 30), to
test this script where there is no GPU.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

INSIDE = r"""
import json, os, sys, time
t0 = time.perf_counter()
import numpy as np
import torch
dev = os.environ.get("AAR_CHECK_DEVICE", "cuda")
dtype = "bfloat16" if dev == "cuda" else "float32"  # bf16 matmuls on a CPU are emulated: far too slow
def step(what):
    print(f"[{time.perf_counter() - t0:6.1f}s] {what}", file=sys.stderr, flush=True)
out = {"CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"), "cuda": torch.cuda.is_available(),
       "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
       "nvidia_nodes": sorted(n for n in os.listdir("/dev") if n.startswith("nvidia")),
       "torch": torch.__version__, "import_s": round(time.perf_counter() - t0, 2)}
if dev == "cuda" and not out["cuda"]:
    print(json.dumps(out)); sys.exit(3)
sync = torch.cuda.synchronize if dev == "cuda" else (lambda: None)
sys.path.insert(0, "/aar/data")
from tiny_hf import toy_task
from aarlab.w2s.backends.base import FinetuneConfig
from aarlab.w2s.backends.hf import HFBackend
t = time.perf_counter()
step("loading the model")
b = HFBackend("/aar/models/strong", device=dev, dtype=dtype)
sync()
out.update(load_s=round(time.perf_counter() - t, 2), dtype=str(b.model.dtype),
           param_device=str(next(b.model.parameters()).device))
tr, ytr = toy_task(256, seed=0)
te, yte = toy_task(128, seed=1)
step("probe: features")
t = time.perf_counter()
xtr, xte = b.features(tr), b.features(te)
w = torch.zeros(xtr.shape[1], device=dev, requires_grad=True)
bias = torch.zeros(1, device=dev, requires_grad=True)
opt = torch.optim.Adam([w, bias], lr=0.05)
X, Y = torch.tensor(xtr, device=dev), torch.tensor(ytr, dtype=torch.float32, device=dev)
mu, sd = X.mean(0), X.std(0) + 1e-6
for _ in range(300):
    opt.zero_grad()
    loss = torch.nn.functional.binary_cross_entropy_with_logits((X - mu) / sd @ w + bias, Y)
    loss.backward(); opt.step()
p = (((torch.tensor(xte, device=dev) - mu) / sd @ w + bias) > 0).float().cpu().numpy()
out.update(probe_s=round(time.perf_counter() - t, 2), probe_acc=float((p == np.array(yte)).mean()))
step("LoRA finetune")
t = time.perf_counter()
cfg = FinetuneConfig(epochs=30 if dev == "cuda" else 2, lr=1e-2, batch_size=32, seed=0, lora_rank=8)
pred = b.finetune(tr, np.array(ytr, dtype=float), cfg)
acc = float(((pred.predict_proba(te) > 0.5).astype(int) == np.array(yte)).mean())
sync()
peak = torch.cuda.max_memory_allocated() / 2**20 if dev == "cuda" else 0.0
out.update(lora_s=round(time.perf_counter() - t, 2), lora_acc=acc, max_memory_mb=round(peak, 1),
           lora_trainable=sum(p.numel() for p in pred.model.parameters() if p.requires_grad),
           total_s=round(time.perf_counter() - t0, 2))
print(json.dumps(out))
"""


def host_gpus() -> list[str]:
    found = (m.group(1) for p in Path("/dev").glob("nvidia*") if (m := re.fullmatch(r"nvidia(\d+)", p.name)))
    return sorted(found, key=int)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=300.0, help="seconds for the whole check")
    ap.add_argument("--cpu", action="store_true", help="the same check on the CPU (tests this script)")
    args = ap.parse_args()
    t0 = time.monotonic()
    nodes = host_gpus()
    import torch

    cuda = torch.cuda.is_available()
    if (not nodes or not cuda) and not args.cpu:
        print(f"no GPU here ({'no /dev/nvidia<N>' if not nodes else 'torch sees no CUDA device'}): "
              "nothing to check; run this on a GPU machine")
        return 0

    from aar.compute import ComputeQueue, devices_from_env
    from aar.sandbox import Limits, make_sandbox
    from aar.sandbox.gpu import GpuProfile
    from aar.sandbox.layout import TaskView, research_spec

    sys.path.insert(0, str(REPO / "tests" / "w2s"))
    from tiny_hf import make_tiny_model

    devices = devices_from_env() or nodes or ["0"]
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else []
    print(f"host: GPUs {names} (/dev/nvidia{{{','.join(nodes)}}}); device list {devices}"
          + ("; --cpu: running on the CPU" if args.cpu else ""))
    with tempfile.TemporaryDirectory(prefix="aar-gpu-check-") as tmp:
        root = Path(tmp)
        model = make_tiny_model(root / "model")
        data = root / "data"  # the toy task's generator, as the idea's "data"
        data.mkdir()
        (data / "tiny_hf.py").write_text((REPO / "tests" / "w2s" / "tiny_hf.py").read_text())
        view = TaskView(data, {"strong": str(model)})
        limits = Limits(memory_mb=24_000, wall_seconds=args.budget, cpu_seconds=int(args.budget) * 4)
        gpu = GpuProfile(tuple(devices))
        spec = research_spec(root / "agent" / "workspace", view, gpu=gpu, limits=limits)
        box = make_sandbox("bwrap", spec)
        queue = ComputeQueue(root / "queue", len(devices), devices=devices)
        with queue.slot("gpu-check", "hf") as slot:
            (box.spec.workspace / "check.py").write_text(INSIDE)
            left = max(10.0, args.budget - (time.monotonic() - t0))
            env = dict(slot.env) | ({"AAR_CHECK_DEVICE": "cpu"} if args.cpu else {})
            res = box.run("python /workspace/check.py", timeout=left, env=env)
        visible = slot.env["CUDA_VISIBLE_DEVICES"]
        print(f"slot {slot.index}: host GPU {slot.device} (its CUDA_VISIBLE_DEVICES={visible})")
        try:
            out = json.loads(res.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            why = res.killed_reason or "not killed"
            print(f"the sandboxed check failed (exit {res.returncode}, {why}):\n{res.stderr[-3000:]}")
            return 1
    seconds = time.monotonic() - t0
    print(f"sandbox: nodes {out['nvidia_nodes']}, CUDA_VISIBLE_DEVICES={out['CUDA_VISIBLE_DEVICES']}, "
          f"devices {out['devices']}, torch {out['torch']}")
    if not out["cuda"] and not args.cpu:
        print("sandbox: torch sees no CUDA device")
        return 1
    print(f"model: {out['dtype']} on {out['param_device']}, loaded in {out['load_s']}s")
    print(f"probe: features + logistic probe {out['probe_s']}s, test acc {out['probe_acc']:.3f}")
    print(f"LoRA finetune: {out['lora_trainable']} trainable params, {out['lora_s']}s, "
          f"test acc {out['lora_acc']:.3f}")
    print(f"peak GPU memory {out['max_memory_mb']} MB; inside {out['total_s']}s; whole check {seconds:.1f}s "
          f"(budget {args.budget:.0f}s)")
    want = "cpu" if args.cpu else "cuda"
    ok = (res.returncode == 0 and out["dtype"] == ("torch.float32" if args.cpu else "torch.bfloat16")
          and out["param_device"].startswith(want)
          and (args.cpu or len(out["devices"]) == 1) and seconds <= args.budget)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
