"""The listening query language: the boolean syntax Brandwatch, Talkwalker and Sprout users know.

    brand OR "brand name" OR #brand OR @brand
    (coffee OR กาแฟ) AND NOT (job OR hiring) AND lang:th
    refund NEAR/3 (late OR slow)          within 3 words, either order
    order NEAR/2f late                    "order" first, then "late" within 2 words
    cust*  author:chorus.example  domain:example.com  url:example.com/sale  network:bluesky
    has:link  has:media

Operators are upper case (a lower-case ``and`` is a word to look for); ``NOT`` binds tightest,
then ``NEAR``, ``AND``, ``OR``. Two terms side by side with no operator are refused rather
than guessed at. Every error carries the 1-based column it points at. A query must look for
something: one that a post could satisfy with no word, phrase, hashtag, mention, author or
link of its own (``NOT spam``, ``lang:th``, ``a OR NOT b``) would match nearly everything and
is refused (:func:`parse` raises :class:`QueryError` with code ``matches_everything``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from chorus.text import NETWORKS
from chorus.text.segmentation import fold_term

MAX_QUERY_LENGTH = 4000
MIN_WILDCARD_PREFIX = 2
FIELDS = ("lang", "author", "domain", "url", "network", "has")
HAS_VALUES = ("link", "media")


class QueryError(ValueError):
    """A query that cannot be used; ``column`` is 1-based, ``code`` is stable for the API."""

    def __init__(self, message: str, column: int, code: str = "invalid_query") -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.code = code


# --- AST ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """A word or "exact phrase" (``text`` folded); ``prefix`` for a trailing wildcard."""

    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Field:
    """``name`` is hashtag, mention, author, domain, url, lang, network or has."""

    name: str
    value: str


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Near:
    """``left`` and ``right`` are OR-groups of terms; ``distance`` words apart at most."""

    left: tuple[Term, ...]
    right: tuple[Term, ...]
    distance: int
    ordered: bool


Node = Term | Field | Not | And | Or | Near

# Fields that name something a post must carry, so they can anchor a query.
ANCHOR_FIELDS = ("hashtag", "mention", "author", "domain", "url")


@dataclass(frozen=True)
class Anchor:
    """Something a post must contain for a query to match: a term or an anchoring field."""

    kind: str  # "term" or one of ANCHOR_FIELDS
    value: str
    prefix: bool = False


def anchors(node: Node) -> frozenset[Anchor] | None:
    """A set of anchors one of which every matching post contains; None if there is none."""
    if isinstance(node, Term):
        return frozenset({Anchor("term", node.text, node.prefix)})
    if isinstance(node, Field):
        return frozenset({Anchor(node.name, node.value)}) if node.name in ANCHOR_FIELDS else None
    if isinstance(node, Not):
        return None
    if isinstance(node, Near):
        return frozenset(Anchor("term", t.text, t.prefix) for t in node.left)
    if isinstance(node, And):
        found = [a for a in map(anchors, node.children) if a is not None]
        return min(found, key=len) if found else None
    union: set[Anchor] = set()
    for child in node.children:
        child_anchors = anchors(child)
        if child_anchors is None:
            return None
        union |= child_anchors
    return frozenset(union)


def terms_of(node: Node) -> set[Term]:
    """Every term in ``node`` (the matcher looks all of them up in one pass)."""
    if isinstance(node, Term):
        return {node}
    if isinstance(node, Near):
        return set(node.left) | set(node.right)
    if isinstance(node, Not):
        return terms_of(node.child)
    if isinstance(node, And | Or):
        return set().union(*(terms_of(child) for child in node.children))
    return set()


def hashtags_of(node: Node) -> set[str]:
    """The hashtags ``node`` looks for, even under NOT (a source may read their streams)."""
    if isinstance(node, Field):
        return {node.value} if node.name == "hashtag" else set()
    if isinstance(node, Not):
        return hashtags_of(node.child)
    if isinstance(node, And | Or):
        return set().union(*(hashtags_of(child) for child in node.children))
    return set()


# --- Tokenizer ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "AND", "OR", "NOT", "NEAR", "PHRASE", "WORD", "END"
    text: str
    column: int
    distance: int = 0
    ordered: bool = False


_SPECIAL = '()"'


def _near(word: str, column: int) -> _Token:
    spec = word[len("NEAR/") :]
    ordered = spec.endswith("f")
    digits = spec[:-1] if ordered else spec
    if not digits.isascii() or not digits.isdigit():
        raise QueryError(
            _("NEAR/ needs a number at column %(column)s, as in NEAR/3 or NEAR/3f")
            % {"column": column + 5},
            column + 5,
            "near_distance",
        )
    distance = int(digits)
    if not 1 <= distance <= 100:
        raise QueryError(
            _("NEAR/ takes a distance from 1 to 100 words (column %(column)s)")
            % {"column": column + 5},
            column + 5,
            "near_distance",
        )
    return _Token("NEAR", word, column, distance, ordered)


def _tokens(query: str) -> list[_Token]:
    tokens = []
    i = 0
    while i < len(query):
        char = query[i]
        column = i + 1
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, char, column))
            i += 1
        elif char == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QueryError(
                    _("This quotation mark at column %(column)s is never closed")
                    % {"column": column},
                    column,
                    "unclosed_quote",
                )
            tokens.append(_Token("PHRASE", query[i + 1 : end], column))
            i = end + 1
        else:
            end = i
            while end < len(query) and not query[end].isspace() and query[end] not in _SPECIAL:
                end += 1
            word = query[i:end]
            if word in ("AND", "OR", "NOT"):
                tokens.append(_Token(word, word, column))
            elif word.startswith("NEAR/") or word == "NEAR":
                tokens.append(_near(word, column))
            else:
                tokens.append(_Token("WORD", word, column))
            i = end
    tokens.append(_Token("END", "", len(query) + 1))
    return tokens


# --- Parser ---------------------------------------------------------------------------------


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens = _tokens(query)
        self.position = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.position]

    def advance(self) -> _Token:
        token = self.current
        self.position += 1
        return token

    def parse(self) -> Node:
        if self.current.kind == "END":
            raise QueryError(_("The query is empty"), 1, "empty")
        node = self.parse_or()
        token = self.current
        if token.kind == ")":
            raise QueryError(
                _("This closing parenthesis at column %(column)s has no opening one")
                % {"column": token.column},
                token.column,
                "unbalanced_parenthesis",
            )
        if token.kind != "END":
            raise QueryError(
                _("Put AND, OR or NEAR/n before “%(text)s” at column %(column)s")
                % {"text": token.text, "column": token.column},
                token.column,
                "missing_operator",
            )
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while self.current.kind == "OR":
            self.advance()
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_near()]
        while self.current.kind == "AND":
            self.advance()
            children.append(self.parse_near())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_near(self) -> Node:
        start = self.current
        left = self.parse_unary()
        while self.current.kind == "NEAR":
            near = self.advance()
            right_token = self.current
            right = self.parse_unary()
            left = Near(
                self._near_operand(left, start),
                self._near_operand(right, right_token),
                near.distance,
                near.ordered,
            )
        return left

    def _near_operand(self, node: Node, token: _Token) -> tuple[Term, ...]:
        if isinstance(node, Term):
            return (node,)
        if isinstance(node, Or) and all(isinstance(child, Term) for child in node.children):
            return tuple(node.children)  # type: ignore[arg-type]
        raise QueryError(
            _("NEAR/ joins words, phrases or (OR-groups) of them; see column %(column)s")
            % {"column": token.column},
            token.column,
            "near_operand",
        )

    def parse_unary(self) -> Node:
        token = self.current
        if token.kind == "NOT":
            self.advance()
            return Not(self.parse_unary())
        if token.kind == "(":
            self.advance()
            if self.current.kind == ")":
                raise QueryError(
                    _("Empty parentheses at column %(column)s") % {"column": token.column},
                    token.column,
                    "empty_group",
                )
            node = self.parse_or()
            if self.current.kind != ")":
                raise QueryError(
                    _("The parenthesis opened at column %(column)s is never closed")
                    % {"column": token.column},
                    token.column,
                    "unbalanced_parenthesis",
                )
            self.advance()
            return node
        if token.kind == "PHRASE":
            self.advance()
            return _phrase(token)
        if token.kind == "WORD":
            self.advance()
            return _word(token)
        if token.kind == "END":
            raise QueryError(
                _("The query ends where a word, phrase or group was expected (column %(column)s)")
                % {"column": token.column},
                token.column,
                "unexpected_end",
            )
        raise QueryError(
            _("“%(text)s” at column %(column)s needs a word, phrase or group before it")
            % {"text": token.text, "column": token.column},
            token.column,
            "misplaced_operator",
        )


def _phrase(token: _Token) -> Term:
    text = fold_term(token.text)
    if not text:
        raise QueryError(
            _("The phrase at column %(column)s is empty") % {"column": token.column},
            token.column,
            "empty_phrase",
        )
    if "*" in token.text:
        column = token.column + 1 + token.text.index("*")
        raise QueryError(
            _("A wildcard * only goes at the end of a word outside quotes (column %(column)s)")
            % {"column": column},
            column,
            "wildcard",
        )
    return Term(text)


def _word(token: _Token) -> Node:
    word, column = token.text, token.column
    if word[0] in "#＃@＠" and len(word) > 1:
        name = "hashtag" if word[0] in "#＃" else "mention"
        value = fold_term(word[1:])
        if name == "mention":
            value = value.removeprefix("@")
        if not value or "*" in value:
            raise QueryError(
                _("“%(text)s” at column %(column)s is not a hashtag or mention")
                % {"text": word, "column": column},
                column,
                "invalid_field",
            )
        return Field(name, value)
    name, colon, value = word.partition(":")
    if colon and name.isascii() and name.isalpha():
        return _field(name.lower(), value, word, column)
    star = word.find("*")
    if star >= 0 and star != len(word) - 1:
        raise QueryError(
            _("A wildcard * only goes at the end of a word (column %(column)s)")
            % {"column": column + star},
            column + star,
            "wildcard",
        )
    prefix = star >= 0
    text = fold_term(word[:-1] if prefix else word)
    if prefix and len(text) < MIN_WILDCARD_PREFIX:
        raise QueryError(
            _("A wildcard needs at least %(count)s letters before the * (column %(column)s)")
            % {"count": MIN_WILDCARD_PREFIX, "column": column},
            column,
            "matches_everything",
        )
    if not text:
        raise QueryError(
            _("“%(text)s” at column %(column)s has no letters to look for")
            % {"text": word, "column": column},
            column,
            "empty_term",
        )
    return Term(text, prefix=prefix)


def _field(name: str, value: str, word: str, column: int) -> Field:
    value_column = column + len(name) + 1
    if name not in FIELDS:
        raise QueryError(
            _("Unknown field “%(name)s:” at column %(column)s; fields are %(fields)s")
            % {"name": name, "column": column, "fields": ", ".join(f + ":" for f in FIELDS)},
            column,
            "unknown_field",
        )
    value = value.strip()
    if not value:
        raise QueryError(
            _("“%(name)s:” needs a value at column %(column)s")
            % {"name": name, "column": value_column},
            value_column,
            "invalid_field",
        )
    folded = fold_term(value)
    if name == "network" and folded not in NETWORKS:
        allowed = ", ".join(NETWORKS)
    elif name == "has" and folded not in HAS_VALUES:
        allowed = ", ".join(HAS_VALUES)
    elif name == "lang" and not (folded.isascii() and folded.replace("-", "").isalpha()):
        allowed = "th, km, hy, sw, en, …"
    else:
        allowed = ""
    if allowed:
        raise QueryError(
            _("“%(value)s” is not a value of %(name)s: at column %(column)s; use %(allowed)s")
            % {"value": value, "name": name, "column": value_column, "allowed": allowed},
            value_column,
            "invalid_field",
        )
    if name == "author":
        folded = folded.removeprefix("@")
    elif name in ("domain", "url"):
        folded = _strip_url(folded)
    elif name == "lang":
        folded = folded.split("-")[0]
    return Field(name, folded)


def _strip_url(value: str) -> str:
    """``https://www.Example.com/a`` and ``example.com/a`` name the same place."""
    for scheme in ("https://", "http://"):
        value = value.removeprefix(scheme)
    return value.removeprefix("www.").rstrip("/")


def parse(query: str) -> Node:
    """Parse ``query``; raise :class:`QueryError` pointing at the column of the first problem."""
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(
            _("A query holds at most %(count)s characters") % {"count": MAX_QUERY_LENGTH},
            MAX_QUERY_LENGTH + 1,
            "too_long",
        )
    node = _Parser(query).parse()
    if anchors(node) is None:
        raise QueryError(
            _(
                "This query would match almost every post: every part joined by OR needs a "
                "word, phrase, hashtag, mention, author: or domain: to look for, not only "
                "NOT, lang:, network: or has:"
            ),
            1,
            "matches_everything",
        )
    return node
