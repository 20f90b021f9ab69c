"""A tiny Hugging Face causal LM made locally for tests (no downloads): a byte-level BPE tokenizer
trained on generated sentences, and a randomly initialised 2-layer Llama (hidden size 32), both saved
with `save_pretrained` so they load by path like any hub model."""

from __future__ import annotations

import random
from pathlib import Path

COLORS = ["red", "blue", "green", "black", "white", "gold"]
ANIMALS = ["cat", "dog", "bird", "fish", "horse", "mouse"]
FILLER = ["the", "a", "small", "big", "old", "new", "quiet", "loud", "is", "was", "near", "far", "and"]
HIDDEN = 32


def sentences(n: int = 400, seed: int = 0) -> list[str]:
    """Training corpus for the tokenizer: every word the tests use, plus the prompt template's words."""
    rng = random.Random(seed)
    words = COLORS + ANIMALS + FILLER
    out = ["Is the above correct? Answer Yes or No.\nAnswer: Yes", "Answer: No"] * 20
    for _ in range(n):
        out.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))) + rng.choice(["?", "."]))
    return out


def make_tiny_model(dest: Path, seed: int = 0, arch: str = "llama", hidden: int = HIDDEN,
                    layers: int = 2) -> Path:
    """Write a tiny tokenizer + causal LM (`hidden` wide, `layers` deep) to `dest` and return it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedTokenizerFast,
        Qwen2Config,
        Qwen2ForCausalLM,
    )

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=800, special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(sentences(), trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>")
    fast.save_pretrained(dest)

    common = dict(vocab_size=tok.get_vocab_size(), hidden_size=hidden, intermediate_size=2 * hidden,
                  num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                  max_position_embeddings=128,
                  pad_token_id=fast.pad_token_id, bos_token_id=fast.bos_token_id,
                  eos_token_id=fast.eos_token_id)
    torch.manual_seed(seed)
    if arch == "qwen2":
        model = Qwen2ForCausalLM(Qwen2Config(**common))
    else:
        model = LlamaForCausalLM(LlamaConfig(**common))
    model.save_pretrained(dest)
    return dest


def toy_task(n: int, seed: int) -> tuple[list[str], list[int]]:
    """A separable task: label 1 iff the sentence names a colour from the first half of COLORS.

    Texts have random filler of varying length around the key word, so padding matters."""
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        key = rng.choice(COLORS[:3] if label else COLORS[3:])
        pre = [rng.choice(FILLER) for _ in range(rng.randint(0, 4))]
        post = [rng.choice(ANIMALS) for _ in range(rng.randint(1, 2))]
        texts.append(" ".join([*pre, key, *post]) + "?")
        labels.append(label)
    return texts, labels


RELEASE_SUBSETS = ("in_distribution", "out_of_distribution")


def release_rows(split: str, n: int) -> list[dict]:
    """Rows in the published release's binary (math/code) shape: `question`, `choice`, a bool `label`, plus
    the `subset` and `difficulty` metadata the release strips for agents. True iff the colour is one of the
    first three; a third of the items are `out_of_distribution`."""
    rng = random.Random(f"release/{split}")
    rows = []
    for j in range(n):
        color, animal = rng.choice(COLORS), rng.choice(ANIMALS)
        pre = " ".join(rng.choice(FILLER) for _ in range(rng.randint(0, 3)))
        rows.append({"question": f"{pre} {color} {animal}?".strip(), "choice": rng.choice(["yes", "no"]),
                     "label": COLORS.index(color) < 3, "subset": RELEASE_SUBSETS[j % 3 == 0],
                     "difficulty": str(1 + j % 4)})
    return rows


def write_release(root: Path, sizes: dict[str, int], dataset: str = "toy") -> Path:
    """`root/<dataset>/{train_label,train_unlabel,test}.jsonl` (the release's `labeled_data` layout)."""
    import json

    for split, n in sizes.items():
        path = Path(root) / dataset / f"{split}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in release_rows(split, n)))
    return Path(root) / dataset
