"""A character-level tokenizer in Hugging Face format (PreTrainedTokenizerFast over `tokenizers`)."""

from __future__ import annotations

import string

from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

from aar.tasks.common import NO, YES

SPECIALS = ["[PAD]", "[UNK]", "[BOS]", "[EOS]"]
CHARS = string.digits + string.ascii_lowercase + " +-*/=?;:>()<.,#_'"


def make_tokenizer() -> PreTrainedTokenizerFast:
    vocab = {tok: i for i, tok in enumerate(SPECIALS + [YES, NO] + list(CHARS))}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.post_processor = processors.TemplateProcessing(
        single="[BOS] $A", pair="[BOS] $A $B", special_tokens=[("[BOS]", vocab["[BOS]"])]
    )
    tok.add_tokens([YES, NO])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="[BOS]", eos_token="[EOS]", pad_token="[PAD]", unk_token="[UNK]"
    )
    fast.padding_side = "right"
    return fast
