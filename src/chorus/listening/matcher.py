"""Matching posts against many listening queries at once, compiled once per set of queries.

One Aho-Corasick automaton (pyahocorasick) holds every query's *anchors* (the terms,
hashtags, mentions, authors or links without which it cannot match, see
:func:`chorus.listening.query.anchors`). A post costs one NFKC_Casefold of its text and one
pass of that automaton; only when it holds an anchor is it looked at closely: the terms of the
queries it triggers are searched for in its text, the whitespace-separated chunks where they
occur are segmented into words by
chorus.text, the same ICU + PyThaiNLP word boundaries and folding compliance policies use
(:class:`chorus.text.TermMatcher`), and the boolean, NEAR and field checks of just those
queries run. Posts that contain no anchor, most of any stream, never reach the segmenter.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import ahocorasick

from chorus.text import find_entities
from chorus.text.segmentation import (
    _UNSPACED_GAP,
    FoldedWords,
    cached_folded_words,
    edge_of_word,
    fold,
    fold_term,
    folded_words,
)

from .query import And, Field, Near, Node, Not, Or, Term, anchors, terms_of
from .query import _strip_url as strip_url


@dataclass(slots=True)
class ListeningPost:
    """What a query can look at in a post. Sources fill entities from the network's own
    facets/tags when it has them, else :meth:`from_text` finds them in the text."""

    text: str
    network: str = ""
    lang: str = ""
    author: str = ""
    links: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    has_media: bool = False

    @classmethod
    def from_text(cls, text: str, *, network: str, **fields) -> ListeningPost:
        entities = find_entities(text, network) if network else []
        by_kind: dict[str, list[str]] = {"link": [], "mention": [], "hashtag": []}
        for entity in entities:
            by_kind[entity.kind].append(entity.value)
        fields.setdefault("links", tuple(by_kind["link"]))
        fields.setdefault("mentions", tuple(by_kind["mention"]))
        fields.setdefault("hashtags", tuple(by_kind["hashtag"]))
        return cls(text=text, network=network, **fields)


@dataclass
class _Context:
    """Everything known about one post while its triggered queries are evaluated."""

    post: ListeningPost
    folded: str = ""
    offsets: tuple[int, ...] = ()
    occurrences: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    word_numbers: list[int] | None = None
    facts: dict[str, object] = field(default_factory=dict)
    # Chunk mode (see CompiledMatcher._verify): offsets index the folded chunks joined by " ".
    chunks: _Chunks | None = None

    def fact(self, name: str) -> object:
        """Normalised post fields, computed the first time a query asks for them."""
        if name not in self.facts:
            post = self.post
            if name == "hashtags":
                value: object = {fold_term(tag).lstrip("#＃") for tag in post.hashtags}
            elif name == "mentions":
                value = {fold_term(m).lstrip("@") for m in post.mentions}
            elif name == "links":
                value = [strip_url(fold(link).strip()) for link in post.links]
            elif name == "lang":
                value = post.lang.lower().split("-")[0]
            else:
                value = fold_term(post.author).lstrip("@")
            self.facts[name] = value
        return self.facts[name]

    def gap(self, after: int, before: int, limit: int) -> int:
        """Words lying wholly between offset ``after`` (the end of one occurrence) and
        ``before`` (the start of the next); any number above ``limit`` may come back as
        ``limit + 1``."""
        if self.chunks is None:
            return self.words_before(before) - self.words_before(after)
        return self.chunks.gap(after, before, limit)

    def words_before(self, offset: int) -> int:
        """How many words of the folded text end at or before ``offset``."""
        if self.word_numbers is None:
            counts, total, previous = [], 0, 0
            for boundary in self.offsets:
                if any(char.isalnum() for char in self.folded[previous:boundary]):
                    total += 1
                counts.append(total)
                previous = boundary
            self.word_numbers = counts
        index = bisect_right(self.offsets, offset) - 1
        return self.word_numbers[index] if index >= 0 else 0


class _NeedsWholePost(Exception):
    """A chunk folds differently on its own: evaluate over the whole post instead."""


class _Chunks:
    """A post cut at whitespace, each chunk segmented by chorus.text only when asked.

    Word boundaries never cross whitespace, so a chunk segmented alone has the boundaries it
    has inside the post; the same chunk recurs across posts (hashtags, common words), so
    chorus.text remembers the segmentation of recent chunks. ``starts`` are the chunks'
    offsets in their folded forms joined by single spaces (the text the automaton reads).
    """

    def __init__(self, chunks: list[str], folded: list[str]) -> None:
        self.chunks, self.folded = chunks, folded
        self.starts, position = [], 0
        for piece in folded:
            self.starts.append(position)
            position += len(piece) + 1
        self._consistent: dict[int, bool] = {}

    def index(self, offset: int) -> int:
        return bisect_right(self.starts, offset) - 1

    def edge_is_boundary(self, i: int, offset: int, *, before: bool) -> bool:
        """Whether chorus.text's script rules alone say that ``offset`` in chunk ``i`` is a
        word boundary: only punctuation lies between it and the chunk's edge (``before``:
        its start). Then the chunk need not be segmented, provided it folds alone as it
        does inside the post."""
        piece = self.folded[i]
        if not edge_of_word(piece[:offset] if before else piece[offset:]):
            return False
        if i not in self._consistent:
            chunk = self.chunks[i]
            self._consistent[i] = chunk.isascii() or fold(chunk) == piece
        return self._consistent[i]

    def segment(self, i: int) -> FoldedWords:
        """Chunk ``i``'s boundaries and word spans, chunk-relative."""
        segmented = cached_folded_words(self.chunks[i])
        if segmented.folded != self.folded[i]:
            raise _NeedsWholePost
        return segmented

    def gap(self, after: int, before: int, limit: int) -> int:
        first, last = self.index(after - 1), self.index(before)
        if first == last:
            base = self.starts[first]
            words = self.segment(first).words
            return sum(1 for a, b in words if a >= after - base and b <= before - base)
        between = range(first + 1, last)
        if sum(1 for i in between if any(c.isalnum() for c in self.folded[i])) > limit:
            return limit + 1  # each of those chunks holds at least one word
        total = sum(1 for a, _b in self.segment(first).words if a >= after - self.starts[first])
        total += sum(len(self.segment(i).words) for i in between)
        total += sum(1 for _a, b in self.segment(last).words if b <= before - self.starts[last])
        return total


Evaluator = Callable[[_Context], bool]


def _link_matches(kind: str, value: str) -> Evaluator:
    def check(ctx: _Context) -> bool:
        for link in ctx.fact("links"):  # type: ignore[union-attr]
            if kind == "url":
                if link.startswith(value):
                    return True
            else:
                host = link.split("/", 1)[0].split("?", 1)[0]
                if host == value or host.endswith("." + value):
                    return True
        return False

    return check


def _near(node: Near, term_ids: Mapping[Term, int]) -> Evaluator:
    left = [term_ids[t] for t in node.left]
    right = [term_ids[t] for t in node.right]

    def check(ctx: _Context) -> bool:
        lefts = [span for tid in left for span in ctx.occurrences.get(tid, ())]
        rights = [span for tid in right for span in ctx.occurrences.get(tid, ())]
        for l_start, l_end in lefts:
            for r_start, r_end in rights:
                if r_start >= l_end:
                    gap = ctx.gap(l_end, r_start, node.distance)
                elif not node.ordered and l_start >= r_end:
                    gap = ctx.gap(r_end, l_start, node.distance)
                else:
                    continue
                if gap <= node.distance:
                    return True
        return False

    return check


def compile_node(node: Node, term_ids: Mapping[Term, int]) -> Evaluator:
    """One closure per AST node: evaluating a query is a few Python calls, no re-parsing."""
    if isinstance(node, Term):
        tid = term_ids[node]
        return lambda ctx: tid in ctx.occurrences
    if isinstance(node, Not):
        child = compile_node(node.child, term_ids)
        return lambda ctx: not child(ctx)
    if isinstance(node, And):
        children = [compile_node(c, term_ids) for c in node.children]
        return lambda ctx: all(c(ctx) for c in children)
    if isinstance(node, Or):
        children = [compile_node(c, term_ids) for c in node.children]
        return lambda ctx: any(c(ctx) for c in children)
    if isinstance(node, Near):
        return _near(node, term_ids)
    assert isinstance(node, Field)
    name, value = node.name, node.value
    if name in ("hashtag", "mention"):
        plural = name + "s"
        return lambda ctx: value in ctx.fact(plural)  # type: ignore[operator]
    if name == "author":
        return lambda ctx: ctx.fact("author") == value
    if name == "lang":
        return lambda ctx: ctx.fact("lang") == value
    if name == "network":
        return lambda ctx: ctx.post.network == value
    if name == "has":
        if value == "link":
            return lambda ctx: bool(ctx.post.links)
        return lambda ctx: ctx.post.has_media
    return _link_matches(name, value)


def _fold_handle(value: str) -> str:
    """A tag, handle or author as the index keys it (NFKC_Casefold is lower() on ASCII)."""
    key = value.lower() if value.isascii() else fold_term(value)
    return key.lstrip("#＃@")


class CompiledMatcher:
    """Every query of a set compiled into one automaton; :meth:`match` returns the keys of
    the queries a post matches. Build it once per set of queries and reuse it."""

    def __init__(self, queries: Mapping[object, Node]) -> None:
        self._keys = list(queries)
        self._evaluators: list[Evaluator] = []
        self._term_ids: dict[Term, int] = {}
        # Per anchor, the queries it may trigger.
        self._by_term: dict[int, list[int]] = {}
        self._by_field: dict[str, dict[str, list[int]]] = {
            "hashtag": {},
            "mention": {},
            "author": {},
        }
        self._needs_links: list[int] = []
        self._query_terms: list[frozenset[int]] = []
        for index, key in enumerate(self._keys):
            node = queries[key]
            terms = sorted(terms_of(node), key=lambda t: (t.text, t.prefix))
            for term in terms:
                self._term_ids.setdefault(term, len(self._term_ids))
            self._query_terms.append(frozenset(self._term_ids[t] for t in terms))
            self._evaluators.append(compile_node(node, self._term_ids))
            for anchor in anchors(node) or ():
                if anchor.kind == "term":
                    tid = self._term_ids[Term(anchor.value, anchor.prefix)]
                    self._by_term.setdefault(tid, []).append(index)
                elif anchor.kind in ("domain", "url"):
                    self._needs_links.append(index)
                else:
                    self._by_field[anchor.kind].setdefault(anchor.value, []).append(index)
        self._by_tag, self._by_mention, self._by_author = self._by_field.values()
        # The anchors alone decide cheaply whether a post needs a closer look (context words
        # such as "price" are everywhere): one automaton, each pattern giving the queries it
        # may trigger. The closer look searches the text for the few terms those queries use.
        anchor_patterns: dict[str, set[int]] = {}
        for term, tid in self._term_ids.items():
            for pattern in self._patterns(term) if tid in self._by_term else ():
                anchor_patterns.setdefault(pattern, set()).update(self._by_term[tid])
        self._anchor_automaton = self._build_automaton(
            {pattern: tuple(sorted(found)) for pattern, found in anchor_patterns.items()}
        )
        self._term_patterns = [(tuple(self._patterns(t)), t.prefix) for t in self._term_ids]

    @staticmethod
    def _patterns(term: Term) -> Iterable[str]:
        """The term as written, and without the spaces typed between Thai or Khmer words."""
        return dict.fromkeys((term.text, _UNSPACED_GAP.sub("", term.text)))

    @staticmethod
    def _build_automaton(patterns: Mapping[str, object]) -> ahocorasick.Automaton | None:
        if not patterns:
            return None
        automaton = ahocorasick.Automaton()
        for pattern, value in patterns.items():
            automaton.add_word(pattern, value)
        automaton.make_automaton()
        return automaton

    def _hits(self, text: str, needed: Iterable[int]) -> Iterator[tuple[int, int, int, bool]]:
        """``(start, end, term id, prefix)`` of every occurrence of the ``needed`` terms in
        ``text``, overlapping ones included: a few C-speed ``str.find`` calls, where an
        automaton of every term would stop at the context words of 10,000 other queries."""
        for tid in needed:
            patterns, prefix = self._term_patterns[tid]
            for pattern in patterns:
                start = text.find(pattern)
                while start >= 0:
                    yield start, start + len(pattern), tid, prefix
                    start = text.find(pattern, start + 1)

    def __len__(self) -> int:
        return len(self._keys)

    def _triggered(self, post: ListeningPost, folded: str) -> set[int]:
        """The queries whose anchors ``post`` holds (``folded``: its text as :meth:`_fold`
        gives it)."""
        triggered: set[int] = set()
        if self._anchor_automaton is not None and folded:
            for _end, queries in self._anchor_automaton.iter(folded):
                triggered.update(queries)
        for index, values in (
            (self._by_tag, post.hashtags),
            (self._by_mention, post.mentions),
        ):
            if index and values:
                for value in values:
                    triggered.update(index.get(_fold_handle(value), ()))
        if self._by_author and post.author:
            triggered.update(self._by_author.get(_fold_handle(post.author), ()))
        if self._needs_links and post.links:
            triggered.update(self._needs_links)
        return triggered

    @staticmethod
    def _fold(text: str) -> str:
        """The post's text folded, whitespace runs made single spaces."""
        folded = fold(text)
        if "  " in folded or not folded.isprintable():  # newlines, tabs, runs of spaces
            folded = " ".join(folded.split())
        return folded

    def _verify(self, ctx: _Context, needed: frozenset[int], folded_text: str) -> None:
        """Exact whole-word occurrences of the triggered queries' terms.

        Word boundaries never cross whitespace, so only the whitespace-separated chunks where
        a needed term was found (and, for NEAR, the few between two terms) are segmented,
        each on its own. A text whose folding moves whitespace takes the whole-post path.
        """
        text = ctx.post.text
        if not text:
            return
        chunks, folded = text.split(), folded_text.split()
        if len(chunks) != len(folded):
            self._verify_whole(ctx, needed)
            return
        ctx.chunks = cut = _Chunks(chunks, folded)
        starts = cut.starts
        occurrences: dict[int, list[tuple[int, int]]] = {}
        for start, end, tid, prefix in self._hits(" ".join(folded), needed):
            first, last = cut.index(start), cut.index(end - 1)
            local_start, local_end = start - starts[first], end - starts[last]
            if (
                not cut.edge_is_boundary(first, local_start, before=True)
                and local_start not in cut.segment(first).boundary
            ):
                continue
            if cut.edge_is_boundary(last, local_end, before=False):
                whole, word_end = True, local_end
            else:
                offsets = cut.segment(last).offsets
                whole = local_end in cut.segment(last).boundary
                word_end = local_end if whole else offsets[bisect_right(offsets, local_end)]
            if prefix:
                occurrences.setdefault(tid, []).append((start, starts[last] + word_end))
            elif whole:
                occurrences.setdefault(tid, []).append((start, end))
        ctx.occurrences = occurrences

    def _verify_whole(self, ctx: _Context, needed: frozenset[int]) -> None:
        """The needed terms' occurrences over the whole post, with word positions for NEAR."""
        segmented = folded_words(ctx.post.text)
        folded, offsets, boundary = segmented.folded, segmented.offsets, segmented.boundary
        ctx.folded, ctx.offsets = folded, offsets
        occurrences = ctx.occurrences = {}
        for start, end, tid, prefix in self._hits(folded, needed):
            if start not in boundary:
                continue
            whole = end in boundary
            if prefix:
                word_end = end if whole else offsets[bisect_right(offsets, end - 1)]
                occurrences.setdefault(tid, []).append((start, word_end))
            elif whole:
                occurrences.setdefault(tid, []).append((start, end))

    def match(self, post: ListeningPost) -> list[object]:
        """Keys of the queries ``post`` matches, in the order the queries were given."""
        folded = self._fold(post.text) if post.text else ""
        triggered = self._triggered(post, folded)
        if not triggered:
            return []
        needed = frozenset().union(*(self._query_terms[i] for i in triggered))
        ctx = _Context(post)
        try:
            self._verify(ctx, needed, folded)
            return [self._keys[i] for i in sorted(triggered) if self._evaluators[i](ctx)]
        except _NeedsWholePost:
            ctx = _Context(post)
            self._verify_whole(ctx, needed)
            return [self._keys[i] for i in sorted(triggered) if self._evaluators[i](ctx)]

    def match_many(self, posts: Iterable[ListeningPost]) -> Iterable[tuple[ListeningPost, list]]:
        for post in posts:
            keys = self.match(post)
            if keys:
                yield post, keys
