"""A small byte-pair-encoding tokenizer trained on the captions.

Text is normalised (Unicode NFKC, lower case, "ё" read as "е", so "Семёрка" and "семерка" are
one word) and split into words of letters (Latin, Cyrillic or any other script), single digits
and punctuation; each word is then
split into the longest learned sub-word pieces (BPE merges applied in training order, the
last piece of a word marked with ``</w>``). Words never seen in training still encode, as
smaller pieces; characters never seen become ``[UNK]``. Every sequence ends with ``[EOT]``
(the text encoder pools there) and is padded with ``[PAD]`` (id 0) to ``max_len``; longer
texts are truncated so the ``[EOT]`` always fits. The whole tokenizer is plain JSON, stored
inside the checkpoint so a run is self-contained.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter

import torch

PAD, UNK, EOT = "[PAD]", "[UNK]", "[EOT]"
SPECIALS = (PAD, UNK, EOT)
END = "</w>"
_SPLIT = re.compile(r"[^\W\d_]+|\d|[^\w\s]|_")
#: letters every tokenizer knows as pieces, so any Latin or Cyrillic word encodes without [UNK]
ALPHABETS = ("abcdefghijklmnopqrstuvwxyz", "абвгдежзийклмнопрстуфхцчшщъыьэюя")


def normalize(text: str) -> str:
    """NFKC, lower case, "ё" -> "е"."""
    return unicodedata.normalize("NFKC", text).lower().replace("ё", "е")


def pre_tokenize(text: str) -> list[str]:
    return _SPLIT.findall(normalize(text))


def is_word(piece: str) -> bool:
    """A run of letters (not a digit or punctuation)."""
    return bool(_SPLIT.fullmatch(piece)) and piece[:1].isalpha()


def _symbols(word: str) -> tuple[str, ...]:
    return tuple(word[:-1]) + (word[-1] + END,)


def _merge(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


class Tokenizer:
    def __init__(
        self, vocab: list[str], merges: list[tuple[str, str]], max_len: int = 32, words: list[str] | None = None
    ):
        if max_len < 2:
            raise ValueError("max_len must leave room for a token and [EOT]")
        self.vocab = list(vocab)
        self.merges = [tuple(m) for m in merges]
        self.max_len = max_len
        # whole words of the training texts: what the model was taught to read (the rest it only spells)
        self.words = set(words) if words is not None else {t[: -len(END)] for t in self.vocab if t.endswith(END)}
        self.ids = {t: i for i, t in enumerate(self.vocab)}
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.pad_id, self.unk_id, self.eot_id = (self.ids[s] for s in SPECIALS)
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def train(cls, texts: list[str], vocab_size: int = 512, max_len: int = 32) -> Tokenizer:
        """Learn BPE merges on ``texts`` until ``vocab_size`` tokens or no pair occurs twice.

        Every letter of :data:`ALPHABETS` is a piece (inside a word and at its end) whatever the texts.
        """
        words = Counter(w for t in texts for w in pre_tokenize(t))
        known = sorted(w for w in words if is_word(w))
        letters = Counter({c: 1 for alphabet in ALPHABETS for c in alphabet})
        letters.update({alphabet: 1 for alphabet in ALPHABETS})
        words.update({w: 0 for w in letters})  # in the vocabulary, never counted for merges
        splits = {w: _symbols(w) for w in words}
        vocab = list(SPECIALS) + sorted({s for sy in splits.values() for s in sy})
        merges = []
        while len(vocab) < vocab_size:
            pairs: Counter = Counter()
            for w, sy in splits.items():
                for pair in zip(sy, sy[1:]):
                    pairs[pair] += words[w]
            if not pairs:
                break
            best = max(pairs, key=lambda p: (pairs[p], p))  # ties broken by the pair itself: deterministic
            if pairs[best] < 2:
                break
            merges.append(best)
            vocab.append(best[0] + best[1])
            splits = {w: _merge(sy, best) for w, sy in splits.items()}
        return cls(vocab, merges, max_len, known)

    def _encode_word(self, word: str) -> list[int]:
        if word not in self._cache:
            symbols = _symbols(word)
            while len(symbols) > 1:
                ranked = [(self.ranks.get(p, len(self.ranks)), p) for p in zip(symbols, symbols[1:])]
                rank, pair = min(ranked)
                if rank == len(self.ranks):
                    break
                symbols = _merge(symbols, pair)
            self._cache[word] = [self.ids.get(s, self.unk_id) for s in symbols]
        return self._cache[word]

    def unknown_words(self, text: str) -> list[str]:
        """Words of ``text`` (normalised) that no training text contains, in order, each once."""
        return list(dict.fromkeys(w for w in pre_tokenize(text) if is_word(w) and w not in self.words))

    def tokens(self, text: str) -> list[str]:
        """The pieces of ``text`` (for inspection), without padding."""
        return [self.vocab[i] for w in pre_tokenize(text) for i in self._encode_word(w)] + [EOT]

    def encode(self, texts: list[str]) -> torch.Tensor:
        """(N, max_len) int64 ids: the pieces, then [EOT], then [PAD]s; truncated to fit."""
        out = torch.full((len(texts), self.max_len), self.pad_id, dtype=torch.long)
        for i, text in enumerate(texts):
            ids = [j for w in pre_tokenize(text) for j in self._encode_word(w)][: self.max_len - 1] + [self.eot_id]
            out[i, : len(ids)] = torch.tensor(ids)
        return out

    def to_json(self) -> str:
        return json.dumps(
            {"vocab": self.vocab, "merges": self.merges, "max_len": self.max_len, "words": sorted(self.words)}
        )

    @classmethod
    def from_json(cls, text: str) -> Tokenizer:
        d = json.loads(text)
        return cls(d["vocab"], [tuple(m) for m in d["merges"]], d["max_len"], d.get("words"))

    def __len__(self) -> int:
        return len(self.vocab)
