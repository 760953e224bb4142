"""Listening throughput: posts per second matched against 10,000 queries on one core.

    .venv/bin/python bench/listening.py [--queries 10000] [--posts 100000] [--naive-posts 200]

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
flatter the matcher by feeding it chunks it has seen. Each stream is timed on its first pass
(only 200 posts of warm-up, which load ICU's and PyThaiNLP's dictionaries), and --fresh (on by
default) then times a second stream of each kind made with another seed: once as it comes
(the cache holding the first stream, as a long-running consumer's would) and once with the
cache emptied first, where only repeats inside that stream (a hashtag, a word, the same chunk
asked about twice for one post) are served from it. How many chunks were segmented, and how
many requests the cache answered, is printed with each figure.
"""

import argparse
import random
import sys
import time
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


def run_fresh(label, matcher, stream) -> None:
    """A stream of new posts: as it comes, then again made anew with the cache emptied."""
    before = cached_folded_words.cache_info()
    as_is, _ = rate(matcher.match, stream[: len(stream) // 2])
    print(f"  fresh {label}, cache warm : {as_is:>10,.0f} posts/s  ({cached_share(before)})")
    cached_folded_words.cache_clear()
    before = cached_folded_words.cache_info()
    emptied, _ = rate(matcher.match, stream[len(stream) // 2 :])
    print(f"  fresh {label}, cache empty: {emptied:>10,.0f} posts/s  ({cached_share(before)})")


def run(label, matcher, regexes, stream, naive_posts) -> None:
    before = cached_folded_words.cache_info()
    matcher_rate, matched = rate(matcher.match, stream)
    share = cached_share(before)
    triggered = sum(1 for post in stream if matcher._triggered(post, matcher._fold(post.text)))

    def naive(post):
        text = fold(post.text)
        return [pattern for pattern in regexes if pattern.search(text)]

    naive_rate, _ = rate(naive, stream[:naive_posts])
    print(
        f"{label}: {len(stream):,} posts  compiled {matcher_rate:>10,.0f} posts/s   "
        f"naive regex loop {naive_rate:>7,.1f} posts/s   ratio {matcher_rate / naive_rate:,.0f}x"
    )
    print(
        f"  {triggered / len(stream):.1%} of posts held an anchor and were checked word by word, "
        f"{matched / len(stream):.1%} matched a query; {share}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--naive-posts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--fresh", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    queries, brands = build_queries(min(args.queries, 50_000), rng)
    started = time.process_time()
    matcher = CompiledMatcher(queries)
    compile_s = time.process_time() - started
    regexes = naive_regexes(queries)
    posts = min(args.posts, 1_000_000)
    mixed = make_stream(posts, MIXED, brands, rng)
    unspaced = make_stream(posts // 2, UNSPACED, brands, rng)
    for post in mixed[:200] + unspaced[:200]:  # warm-up: ICU and PyThaiNLP dictionaries load
        matcher.match(post)
    print(f"{len(queries):,} queries compiled in {compile_s:.2f} s (one core)")
    run("mixed th/km/hy/sw/en", matcher, regexes, mixed, args.naive_posts)
    if args.fresh:
        run_fresh("mixed", matcher, make_stream(posts, MIXED, brands, random.Random(~args.seed)))
    run("Thai and Khmer only ", matcher, regexes, unspaced, args.naive_posts)
    if args.fresh:
        fresh = make_stream(posts // 2, UNSPACED, brands, random.Random(~args.seed))
        run_fresh("Thai and Khmer", matcher, fresh)


if __name__ == "__main__":
    main()
