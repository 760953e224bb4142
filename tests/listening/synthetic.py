"""Synthetic listening streams and query sets built from Chorus' own corpus (tests/text/corpus).

Words are the corpus' labelled words per language. Brand names are three corpus words glued
together (one Thai or Khmer compound, one long word elsewhere), so they turn up in the stream
only where a post mentions the brand, as brand names do on a real firehose. Queries follow the
shapes listening teams write: the brand with its hashtag and handle, brand AND context, brand
NOT noise, brand NEAR/n a word, a wildcard, fields.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from chorus.listening.matcher import ListeningPost
from tests.text.corpus import LANGUAGES, ZWSP, load

UNSPACED = ("th", "km")


@cache
def vocabulary() -> dict[str, tuple[str, ...]]:
    words: dict[str, dict[str, None]] = {language: {} for language in LANGUAGES}
    for post in load("posts"):
        for word in post.word_texts():
            if not word.isdigit():
                words[post.language][word] = None
    return {language: tuple(found) for language, found in words.items()}


@dataclass(frozen=True)
class Brand:
    language: str
    name: str

    @property
    def tag(self) -> str:
        return self.name.replace(" ", "")


def make_brands(count: int, rng: random.Random, languages=LANGUAGES) -> list[Brand]:
    vocab = vocabulary()
    brands: dict[tuple[str, str], Brand] = {}
    while len(brands) < count:
        language = rng.choice(languages)
        parts = rng.sample(vocab[language], 3)
        if language not in UNSPACED:
            parts = [part.capitalize() for part in parts]
        name = "".join(parts)
        brands.setdefault((language, name.lower()), Brand(language, name))
    return list(brands.values())


def make_query(brand: Brand, rng: random.Random) -> str:
    vocab = vocabulary()[brand.language]
    a, b, c = rng.sample(vocab, 3)
    shape = rng.randrange(8)
    name = brand.name
    if shape == 0:
        return f"{name} OR #{brand.tag}"
    if shape == 1:
        return f"{name} AND ({a} OR {b})"
    if shape == 2:
        return f'({name} OR #{brand.tag}) AND NOT ({a} OR "{b}")'
    if shape == 3:
        return f"{name} NEAR/3 {a}"
    if shape == 4:
        return f"{name} NEAR/2f ({a} OR {b})"
    if shape == 5:
        return f"{name[: max(3, len(name) - 2)]}* AND lang:{brand.language}"
    if shape == 6:
        return f'"{name}" AND (has:link OR network:bluesky) AND NOT {c}'
    return f"{name} OR author:{brand.tag.lower()}.example OR @{brand.tag.lower()}.example"


def make_text(language: str, rng: random.Random, brand: Brand | None = None) -> tuple[str, list]:
    """A post of 8 to 24 corpus words; Thai and Khmer write phrases without spaces (Khmer
    sometimes with ZERO WIDTH SPACE between words). Returns the text and its hashtags."""
    vocab = vocabulary()[language]
    words = [rng.choice(vocab) for _ in range(rng.randint(8, 24))]
    hashtags = []
    if brand is not None:
        words.insert(rng.randrange(len(words) + 1), brand.name)
    if rng.random() < 0.3:
        tag = brand.tag if brand is not None and rng.random() < 0.5 else rng.choice(vocab)
        hashtags.append(tag)
        words.append("#" + tag)
    if language in UNSPACED:
        pieces, phrase = [], []
        for word in words:
            phrase.append(word)
            if word.startswith("#") or rng.random() < 0.3:
                joiner = ZWSP if language == "km" and rng.random() < 0.5 else ""
                pieces.append(joiner.join(phrase))
                phrase = []
        if phrase:
            pieces.append("".join(phrase))
        text = " ".join(pieces)
    else:
        text = " ".join(words)
        if rng.random() < 0.5:
            text += rng.choice(("!", ".", "?", " 🙂"))
    return text, hashtags


def make_stream(
    count: int, languages, brands: list[Brand], rng: random.Random, mention_rate: float = 0.05
) -> list[ListeningPost]:
    by_language: dict[str, list[Brand]] = {}
    for brand in brands:
        by_language.setdefault(brand.language, []).append(brand)
    stream = []
    for _ in range(count):
        language = rng.choice(languages)
        brand = None
        if by_language.get(language) and rng.random() < mention_rate:
            brand = rng.choice(by_language[language])
        text, hashtags = make_text(language, rng, brand)
        links = ("https://shop.example/sale",) if rng.random() < 0.2 else ()
        stream.append(
            ListeningPost(
                text=text,
                network=rng.choice(("bluesky", "mastodon")),
                lang=language,
                author=f"user{rng.randrange(10_000)}.example",
                links=links,
                hashtags=tuple(hashtags),
                has_media=rng.random() < 0.1,
            )
        )
    return stream
