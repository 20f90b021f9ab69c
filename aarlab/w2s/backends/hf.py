"""The `hf` backend: any Hugging Face causal LM, by hub name or local path (the GPU reference setting).

A verification text is wrapped in a yes/no question (`PromptFormat`); the model's judgement is read
from the logits of the two label tokens at the last prompt position. Zero-shot uses those logits as
they are; fine-tuning (LoRA via peft when `cfg.lora_rank` is set, else the whole model) trains the
same two logits, so the model's prior is the starting point. Probe features are the final-layer
hidden state at the last prompt token. Batches are left-padded so the last position is the prompt's
last token for every row, with explicit position ids so padding does not shift positions.

Device and dtype default to cuda + bfloat16 when a GPU is present, else cpu + float32; the
environment variables `AAR_HF_DEVICE` and `AAR_HF_DTYPE` override them (the backend is built from a
model spec alone by `load_backend`), and `AAR_HF_LORA_RANK` sets the LoRA rank used when a
`FinetuneConfig` leaves `lora_rank` unset (0 = full fine-tuning), so callers that do not know about
LoRA still train adapters on a multi-billion-parameter model.

Long texts: a prompt is at most `max_length` tokens (argument, else `AAR_HF_MAX_LENGTH`, else 1024; never
more than the model's `max_position_embeddings`). A longer one keeps the whole question template and the
beginning (the problem) and end (the final answer) of the text: the middle of the text is cut out and
replaced by " [...] " (`truncation="middle"`); `truncation="error"` (or `AAR_HF_TRUNCATION=error`) raises
instead. A template that alone passes `max_length` is an error either way.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from aarlab.w2s.backends.base import FinetuneConfig, LossFn, ModelBackend
from aarlab.w2s.backends.train_loop import train_classifier
from aarlab.w2s.hfquiet import quiet_hf

DTYPES = {"bfloat16": torch.bfloat16, "bf16": torch.bfloat16, "float16": torch.float16,
          "fp16": torch.float16, "float32": torch.float32, "fp32": torch.float32}


@dataclass(frozen=True)
class PromptFormat:
    """How a verification text becomes a yes/no question, and which tokens carry the answer."""

    template: str = "{text}\nIs the above correct? Answer Yes or No.\nAnswer:"
    yes: str = " Yes"
    no: str = " No"
    chat: bool = False  # wrap the question in the tokenizer's chat template (chat/instruct models)


def default_device() -> str:
    return os.environ.get("AAR_HF_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")


def resolve_dtype(dtype: str | torch.dtype | None, device: str) -> torch.dtype:
    dtype = dtype or os.environ.get("AAR_HF_DTYPE")
    if dtype is None:
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {sorted(DTYPES)}")
    return DTYPES[dtype]


def _looks_like_chat(spec: str, tok: object) -> bool:
    """Use the chat template for chat/instruct models (override with AAR_HF_CHAT=0/1)."""
    env = os.environ.get("AAR_HF_CHAT")
    if env in ("0", "1"):
        return env == "1"
    name = spec.lower()
    return bool(getattr(tok, "chat_template", None)) and any(k in name for k in ("chat", "instruct"))


CUT = " [...] "
TRUNCATIONS = ("middle", "error")


class _Runner:
    """Tokenizes prompts and runs a model over them, reading the last position."""

    def __init__(self, model: torch.nn.Module, tok: object, fmt: PromptFormat, device: str,
                 max_length: int, yes_id: int, no_id: int, truncation: str = "middle") -> None:
        self.model, self.tok, self.fmt, self.device = model, tok, fmt, device
        self.max_length, self.yes_id, self.no_id = max_length, yes_id, no_id
        self.truncation = truncation
        self.keep_last_only = True  # `logits_to_keep=1`: skip the vocab projection of earlier positions

    def prompt(self, text: str) -> str:
        question = self.fmt.template.format(text=text)
        if not self.fmt.chat:
            return question
        return self.tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                            add_generation_prompt=True)

    def _ids(self, texts: list[str]) -> list[list[int]]:
        return self.tok([self.prompt(t) for t in texts], add_special_tokens=not self.fmt.chat)["input_ids"]

    def fit(self, text: str) -> str:
        """`text`, with its middle cut out until its prompt fits `max_length` tokens."""
        for _ in range(16):  # each round cuts at least the overflow; re-tokenizing may leave a token or two
            over = len(self._ids([text])[0]) - self.max_length
            if over <= 0:
                return text
            if self.truncation == "error":
                raise ValueError(f"a prompt of {over + self.max_length} tokens passes max_length "
                                 f"{self.max_length} (truncation='error')")
            ids = self.tok(text, add_special_tokens=False)["input_ids"]
            keep = len(ids) - over - len(self.tok(CUT, add_special_tokens=False)["input_ids"]) - 1
            if keep < 2:
                raise ValueError(f"max_length {self.max_length} leaves no room for the text after the "
                                 f"prompt template; raise max_length")
            head, tail = keep - keep // 2, keep // 2
            text = self._cut(text, ids, head, len(ids) - tail)
        raise ValueError(f"could not fit a text into max_length {self.max_length}")

    def _cut(self, text: str, ids: list[int], head: int, tail_from: int) -> str:
        """The text of tokens [:head] + CUT + the text of tokens [tail_from:] (character offsets when the
        tokenizer gives them, so the kept parts are the original characters)."""
        try:
            offsets = self.tok(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        except (NotImplementedError, ValueError, TypeError):
            offsets = None
        if offsets and len(offsets) == len(ids):
            return text[: offsets[head - 1][1]] + CUT + text[offsets[tail_from][0]:]
        return self.tok.decode(ids[:head]) + CUT + self.tok.decode(ids[tail_from:])

    def encode(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        texts = list(texts)
        ids = self._ids(texts)
        for i, row in enumerate(ids):
            if len(row) > self.max_length:
                ids[i] = self._ids([self.fit(texts[i])])[0]
        enc = self.tok.pad({"input_ids": ids}, return_tensors="pt")
        return enc["input_ids"].to(self.device), enc["attention_mask"].to(self.device)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, hidden: bool = False):
        positions = (mask.long().cumsum(dim=1) - 1).clamp_min(0)
        kwargs = dict(input_ids=ids, attention_mask=mask, position_ids=positions, output_hidden_states=hidden,
                      use_cache=False)
        if self.keep_last_only:
            try:
                return self.model(**kwargs, logits_to_keep=1)
            except TypeError:  # remote-code models without the argument
                self.keep_last_only = False
        return self.model(**kwargs)

    def label_logits(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(n, 2) float32 logits of (no, yes) at the last prompt token."""
        logits = self.forward(ids, mask).logits[:, -1]
        return logits[:, [self.no_id, self.yes_id]].float()


def _batches(texts: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(texts), size):
        yield list(texts[i : i + size])


class HFPredictor:
    """p(label=1) from the two label-token logits of a (possibly fine-tuned) model."""

    def __init__(self, runner: _Runner, batch_size: int) -> None:
        self.runner, self.batch_size = runner, batch_size

    @property
    def model(self) -> torch.nn.Module:
        return self.runner.model

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.runner.model.eval()
        out = [torch.softmax(self.runner.label_logits(*self.runner.encode(b)), dim=1)[:, 1].cpu()
               for b in _batches(texts, self.batch_size)]
        return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0, dtype=np.float64)


class HFBackend(ModelBackend):
    name = "hf"

    def __init__(self, spec: str | Path, *, device: str | None = None, dtype: str | torch.dtype | None = None,
                 fmt: PromptFormat | None = None, batch_size: int = 16, max_length: int | None = None,
                 gradient_checkpointing: bool | None = None, lora_rank: int | None = None,
                 truncation: str | None = None) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        quiet_hf()
        self.spec = str(spec)
        self.device = device or default_device()
        self.dtype = resolve_dtype(dtype, self.device)
        self.batch_size = batch_size
        self.max_length = int(max_length or os.environ.get("AAR_HF_MAX_LENGTH") or 1024)
        self.truncation = truncation or os.environ.get("AAR_HF_TRUNCATION") or "middle"
        if self.truncation not in TRUNCATIONS:
            raise ValueError(f"unknown truncation {self.truncation!r}; choose one of {TRUNCATIONS}")
        if self.max_length < 8:
            raise ValueError(f"max_length {self.max_length} is too small")
        env_rank = os.environ.get("AAR_HF_LORA_RANK")
        self.default_lora_rank = lora_rank if lora_rank is not None else (int(env_rank) if env_rank else None)
        self.gradient_checkpointing = (self.device.startswith("cuda") if gradient_checkpointing is None
                                       else gradient_checkpointing)
        self.tok = AutoTokenizer.from_pretrained(self.spec)
        self.tok.padding_side = "left"  # the last position is every row's last prompt token
        if self.tok.pad_token_id is None:
            if self.tok.eos_token is None:
                raise ValueError(f"{self.spec}: tokenizer has neither a pad nor an eos token")
            self.tok.pad_token = self.tok.eos_token
        self.fmt = fmt or PromptFormat(chat=_looks_like_chat(self.spec, self.tok))
        yes, no = (self.fmt.yes, self.fmt.no)
        if self.fmt.chat:  # the chat template ends the assistant header with a newline: no leading space
            yes, no = yes.lstrip(), no.lstrip()
        self.yes_id, self.no_id = self._first_token(yes), self._first_token(no)
        if self.yes_id == self.no_id:
            raise ValueError(f"label strings {yes!r} and {no!r} start with the same token")
        self.model = AutoModelForCausalLM.from_pretrained(self.spec, dtype=self.dtype).to(self.device).eval()
        self.model.requires_grad_(False)
        positions = getattr(self.model.config, "max_position_embeddings", None)
        if positions:  # the model cannot read more positions than it has
            self.max_length = min(self.max_length, int(positions))
        self.runner = self._runner(self.model)

    def _first_token(self, label: str) -> int:
        ids = self.tok.encode(label, add_special_tokens=False)
        if not ids:
            raise ValueError(f"label string {label!r} encodes to no tokens")
        return int(ids[0])

    def _runner(self, model: torch.nn.Module) -> _Runner:
        return _Runner(model, self.tok, self.fmt, self.device, self.max_length, self.yes_id, self.no_id,
                       self.truncation)

    # ---- frozen model --------------------------------------------------------------------------
    @torch.no_grad()
    def features(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for b in _batches(texts, self.batch_size):
            out = self.runner.forward(*self.runner.encode(b), hidden=True)
            rows.append(out.hidden_states[-1][:, -1].float().cpu())
        if not rows:
            return np.zeros((0, int(self.model.config.hidden_size)), dtype=np.float32)
        return torch.cat(rows).numpy().astype(np.float32)

    def zero_shot(self, texts: Sequence[str]) -> np.ndarray:
        return HFPredictor(self.runner, self.batch_size).predict_proba(texts)

    # ---- fine-tuning ---------------------------------------------------------------------------
    def _trainable_copy(self, rank: int | None) -> torch.nn.Module:
        model = copy.deepcopy(self.model)
        if rank:
            from peft import LoraConfig, get_peft_model

            lora = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0,
                              target_modules="all-linear", task_type="CAUSAL_LM")
            with warnings.catch_warnings():  # peft probes a deprecated transformers attribute
                warnings.simplefilter("ignore", FutureWarning)
                model = get_peft_model(model, lora)  # freezes the base weights
        else:
            model.requires_grad_(True)
        if self.gradient_checkpointing:
            # transformers >= 5 renamed gradient_checkpointing_enable
            enable = getattr(model, "activation_checkpointing_enable", None)
            (enable or model.gradient_checkpointing_enable)()
            if rank:
                model.enable_input_require_grads()
        return model

    def finetune(self, texts: Sequence[str], targets: np.ndarray, cfg: FinetuneConfig,
                 loss: LossFn | None = None, weights: np.ndarray | None = None) -> HFPredictor:
        """Train on soft targets p(label=1): LoRA adapters if `cfg.lora_rank` is set, else the whole model."""
        # the classifier is the (no, yes) label-token logits, so training starts from the model's prior
        n = len(texts)
        targets = np.asarray(targets, dtype=np.float32).reshape(-1)
        if n == 0:
            raise ValueError("finetune needs at least one training text")
        if len(targets) != n or (weights is not None and len(weights) != n):
            raise ValueError(f"texts ({n}), targets ({len(targets)}) and weights must have the same length")
        torch.manual_seed(cfg.seed)
        model = self._trainable_copy(cfg.lora_rank if cfg.lora_rank is not None else self.default_lora_rank)
        model.train()
        runner = self._runner(model)
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        train_classifier(lambda batch: runner.label_logits(*runner.encode(batch)), params, opt, texts,
                         targets, cfg, loss, weights, device=self.device)
        model.eval()
        return HFPredictor(runner, self.batch_size)
