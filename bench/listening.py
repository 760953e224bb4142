"""Listening throughput: posts per second matched against 10,000 queries on one core.

    .venv/bin/python bench/listening.py [--queries 10000] [--posts 100000] [--streams 5]

The stream and queries are synthetic, built from Chorus' own corpus (tests/text/corpus, see
tests/listening/synthetic.py): a mixed Thai, Khmer, Armenian, Swahili and English stream, and a
Thai-and-Khmer-only stream reported apart. Each is matched by the compiled matcher
(chorus.listening.matcher: one Aho-Corasick pass, word boundaries from chorus.text only for
posts holding a query's anchor) and by the naive loop a first version would write: one
compiled regex per query (its terms between \\b) searched in every post. The naive loop runs
on the first --naive-posts posts of the same stream (it is ~1000x slower) and both rates are
per post, so the ratio compares like with like. Goals: >= 100,000 posts/s mixed, >= 20,000
posts/s Thai and Khmer. Rates are per second of the process's CPU time (one core).

chorus.text remembers the segmentation of recent whitespace-separated chunks, so a figure could
flatter the matcher by feeding it chunks it has seen. Every figure is a single pass over a
stream made anew with its own seed, with that cache emptied first: only repeats inside the
stream (a hashtag, a word, the same chunk asked about twice for one post) are served from it.
--streams (5) such streams are timed per kind and the median is the figure, since one pass on
a shared virtual machine varies by a fifth from run to run. How many chunks were segmented,
and how many requests the cache answered, is printed with each stream's figure.
"""

import argparse
import gc
import random
import statistics
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(USE_I18N=False)  # the parser's messages go through gettext
django.setup()

import regex  # noqa: E402
from tests.listening.synthetic import make_brands, make_query, make_stream  # noqa: E402

from chorus.listening.matcher import CompiledMatcher  # noqa: E402
from chorus.listening.query import QueryError, parse, terms_of  # noqa: E402
from chorus.text.segmentation import cached_folded_words, fold  # noqa: E402

MIXED = ("th", "km", "hy", "sw", "en")
UNSPACED = ("th", "km")


def build_queries(count: int, rng: random.Random):
    queries, brands = {}, make_brands(count, rng)
    for index, brand in enumerate(brands):
        try:
            queries[index] = parse(make_query(brand, rng))
        except QueryError:
            continue
    return queries, brands


def naive_regexes(queries):
    """One compiled regex per query: its terms (wildcards as prefixes) between \\b."""
    compiled = []
    for node in queries.values():
        parts = sorted(regex.escape(t.text) + (r"\w*" if t.prefix else "") for t in terms_of(node))
        if parts:
            compiled.append(regex.compile(r"\b(?:" + "|".join(parts) + r")\b"))
    return compiled


def rate(function, posts) -> tuple[float, int]:
    """Posts per second of this process's CPU time: one core, however busy the machine is
    with other work (wall-clock figures on a shared machine measure the neighbours)."""
    started = time.process_time()
    hits = sum(1 for post in posts if function(post))
    return len(posts) / (time.process_time() - started), hits


def cached_share(before) -> str:
    after = cached_folded_words.cache_info()
    hits, misses = after.hits - before.hits, after.misses - before.misses
    return f"{misses:,} chunks segmented, {hits:,} asked again and answered by the cache"


def fresh_stream(count, languages, brands, seed):
    """A stream never seen before, with chorus.text's segmentation cache emptied: only repeats
    inside this stream (a hashtag, a common word) are served from it. The consumer freezes its
    matcher out of the cyclic collector's reach when it builds one (services._MatcherCache);
    the stream held here in advance, which no consumer holds, is frozen with it so a full
    collection does not walk 100,000 posts in the middle of a measure."""
    stream = make_stream(count, languages, brands, random.Random(seed))
    cached_folded_words.cache_clear()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return stream


def run(label, matcher, regexes, streams, naive_posts) -> None:
    """The matcher over each stream in turn (one figure per stream, then their median), and the
    naive loop over the first posts of the last stream."""
    rates = []
    for number, make in enumerate(streams, start=1):
        stream = make()
        before = cached_folded_words.cache_info()
        matcher_rate, matched = rate(matcher.match, stream)
        rates.append(matcher_rate)
        print(
            f"  {label} stream {number}: {matcher_rate:>10,.0f} posts/s  ({cached_share(before)})"
        )
    triggered = sum(1 for post in stream if matcher._triggered(post, matcher._fold(post.text)))

    def naive(post):
        text = fold(post.text)
        return [pattern for pattern in regexes if pattern.search(text)]

    naive_rate, _ = rate(naive, stream[:naive_posts])
    middle = statistics.median(rates)
    print(
        f"{label}: {len(stream):,} posts a stream, median of {len(rates)} streams "
        f"{middle:>10,.0f} posts/s (min {min(rates):,.0f}, max {max(rates):,.0f})   "
        f"naive regex loop {naive_rate:>7,.1f} posts/s   ratio {middle / naive_rate:,.0f}x"
    )
    print(
        f"  {triggered / len(stream):.1%} of posts held an anchor and were checked word by word, "
        f"{matched / len(stream):.1%} matched a query"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--naive-posts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--streams", type=int, default=5, help="new streams per kind")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    queries, brands = build_queries(min(args.queries, 50_000), rng)
    started = time.process_time()
    matcher = CompiledMatcher(queries)
    compile_s = time.process_time() - started
    regexes = naive_regexes(queries)
    posts = min(args.posts, 1_000_000)
    for post in make_stream(400, MIXED, brands, rng):  # warm-up: ICU's and PyThaiNLP's dictionaries
        matcher.match(post)
    print(f"{len(queries):,} queries compiled in {compile_s:.2f} s (one core)")
    for label, languages, count in (
        ("mixed th/km/hy/sw/en", MIXED, posts),
        ("Thai and Khmer only", UNSPACED, posts // 2),
    ):
        streams = [
            partial(fresh_stream, count, languages, brands, args.seed * 1000 + number)
            for number in range(args.streams)
        ]
        run(label, matcher, regexes, streams, args.naive_posts)


if __name__ == "__main__":
    main()
