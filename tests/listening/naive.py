"""The reference the compiled matcher must agree with: each query on its own, straight from the
AST, with chorus.text's TermMatcher and word spans. Slow and obviously right."""

from __future__ import annotations

from chorus.listening.matcher import ListeningPost
from chorus.listening.query import And, Field, Near, Node, Not, Or, Term
from chorus.listening.query import _strip_url as strip_url
from chorus.text import TermMatcher, words
from chorus.text.segmentation import fold, fold_term


def _occurrences(term: Term, text: str) -> list[tuple[int, int]]:
    if not term.prefix:
        return [(m.start, m.end) for m in TermMatcher([term.text]).find(text)]
    spans = [span for span in words(text) if span.is_word]
    found = []
    for index, span in enumerate(spans):
        if " ".join(fold(text[span.start :]).split()).startswith(term.text):
            folded_end = len(term.text)
            end_index = index
            while len(" ".join(fold(text[span.start : spans[end_index].end]).split())) < folded_end:
                end_index += 1
            found.append((span.start, spans[end_index].end))
    return found


def _words_between(text: str, start: int, end: int) -> int:
    return sum(1 for s in words(text) if s.is_word and s.start >= start and s.end <= end)


def evaluate(node: Node, post: ListeningPost) -> bool:
    text = post.text
    if isinstance(node, Term):
        return bool(_occurrences(node, text))
    if isinstance(node, Not):
        return not evaluate(node.child, post)
    if isinstance(node, And):
        return all(evaluate(child, post) for child in node.children)
    if isinstance(node, Or):
        return any(evaluate(child, post) for child in node.children)
    if isinstance(node, Near):
        lefts = [o for t in node.left for o in _occurrences(t, text)]
        rights = [o for t in node.right for o in _occurrences(t, text)]
        for ls, le in lefts:
            for rs, re_ in rights:
                if rs >= le and _words_between(text, le, rs) <= node.distance:
                    return True
                if (
                    not node.ordered
                    and ls >= re_
                    and _words_between(text, re_, ls) <= node.distance
                ):
                    return True
        return False
    assert isinstance(node, Field)
    value = node.value
    if node.name == "hashtag":
        return value in {fold_term(t).lstrip("#") for t in post.hashtags}
    if node.name == "mention":
        return value in {fold_term(m).lstrip("@") for m in post.mentions}
    if node.name == "author":
        return fold_term(post.author).lstrip("@") == value
    if node.name == "lang":
        return post.lang.split("-")[0].lower() == value
    if node.name == "network":
        return post.network == value
    if node.name == "has":
        return bool(post.links) if value == "link" else post.has_media
    links = [strip_url(fold(link).strip()) for link in post.links]
    if node.name == "url":
        return any(link.startswith(value) for link in links)
    hosts = [link.split("/", 1)[0].split("?", 1)[0] for link in links]
    return any(host == value or host.endswith("." + value) for host in hosts)
