"""How long whole-word matching and language detection take per post, per language.

    .venv/bin/python bench/text_matching.py [--rounds 20]

Matches every labelled word of the corpus (tests/text/corpus) as one matcher's terms against
each post, and detects each post's language; prints microseconds per post. Thai pays for the
second segmenter (PyThaiNLP); the first call of each loads its dictionary or model, so one
warm-up round is not measured.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.text.corpus import LANGUAGES, load  # noqa: E402

from chorus.text import TermMatcher  # noqa: E402
from chorus.text.language import detect_language  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    rounds = max(1, min(parser.parse_args().rounds, 1000))
    posts = [post for name in ("posts", "heldout") for post in load(name)]
    terms = {word for post in posts for word in post.word_texts()}
    matcher = TermMatcher(terms)
    for post in posts:  # warm-up: dictionaries and models load once
        matcher.find(post.text)
        detect_language(post.text)
    print(f"{len(terms)} terms, {len(posts)} posts, {rounds} rounds")
    for language in LANGUAGES:
        texts = [post.text for post in posts if post.language == language]
        started = time.perf_counter()
        for _ in range(rounds):
            for text in texts:
                matcher.find(text)
        match_us = (time.perf_counter() - started) / (rounds * len(texts)) * 1e6
        started = time.perf_counter()
        for _ in range(rounds):
            for text in texts:
                detect_language(text)
        detect_us = (time.perf_counter() - started) / (rounds * len(texts)) * 1e6
        print(f"{language}: match {match_us:7.0f} µs/post   detect {detect_us:6.0f} µs/post")


if __name__ == "__main__":
    main()
