"""Next-token pretraining of one zoo model on a task corpus (deterministic, CPU)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from aar.tasks.sizes import ModelSpec


def make_model(spec: ModelSpec, vocab_size: int, tok: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    cfg = LlamaConfig(
        vocab_size=vocab_size, hidden_size=spec.d_model, intermediate_size=spec.d_model * 3,
        num_hidden_layers=spec.layers, num_attention_heads=spec.heads, num_key_value_heads=spec.heads,
        max_position_embeddings=96, tie_word_embeddings=True, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    return LlamaForCausalLM(cfg)


def encode_corpus(lines: list[str], tok: PreTrainedTokenizerFast) -> list[list[int]]:
    eos = tok.eos_token_id
    return [ids + [eos] for ids in tok(lines, add_special_tokens=True)["input_ids"]]


def pretrain(
    spec: ModelSpec, seqs: list[list[int]], tok: PreTrainedTokenizerFast, seed: int,
    on_step: Callable[[int, float], None] | None = None,
) -> tuple[LlamaForCausalLM, float]:
    """Train a fresh model for `spec.steps` steps on random batches of `seqs`; return it and its last loss."""
    torch.manual_seed(seed)
    model = make_model(spec, len(tok), tok)
    opt = torch.optim.AdamW(model.parameters(), lr=spec.lr, weight_decay=0.01, betas=(0.9, 0.98))
    warm = max(1, spec.steps // 20)

    def lr_at(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, spec.steps - warm))) * 0.95 + 0.05

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(seed)
    pad = tok.pad_token_id
    loss_val = float("nan")
    model.train()
    for step in range(spec.steps):
        idx = torch.randint(len(seqs), (spec.batch_size * spec.pack,), generator=gen).tolist()
        batch = [sum((seqs[i] for i in idx[r * spec.pack : (r + 1) * spec.pack]), [])
                 for r in range(spec.batch_size)]
        width = max(len(s) for s in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        for r, s in enumerate(batch):
            ids[r, : len(s)] = torch.tensor(s)
        mask = (ids != pad).long()
        labels = ids.masked_fill(mask == 0, -100)
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        opt.zero_grad(set_to_none=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        loss_val = float(out.loss.detach())
        if on_step:
            on_step(step, loss_val)
    model.eval()
    return model, loss_val
