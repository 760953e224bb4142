"""The query language: what parses into what, and errors that point at the right column."""

import pytest

from chorus.listening.query import And, Field, Near, Not, Or, QueryError, Term, parse


def test_boolean_precedence_and_groups():
    assert parse("a OR b AND NOT c") == Or((Term("a"), And((Term("b"), Not(Term("c"))))))
    assert parse("(a OR b) AND c") == And((Or((Term("a"), Term("b"))), Term("c")))


def test_terms_are_folded_like_compliance_policies():
    assert parse("ＣＨＯＲＵＳ") == Term("chorus")
    assert parse('"Free   Trial"') == Term("free trial")
    assert parse("Cust*") == Term("cust", prefix=True)
    assert parse("กาแฟ") == Term("กาแฟ")


def test_near_and_fields():
    assert parse("refund NEAR/3 (late OR slow)") == Near(
        (Term("refund"),), (Term("late"), Term("slow")), 3, False
    )
    assert parse("order NEAR/2f late").ordered
    node = parse(
        "#Promo AND @Chorus AND author:@Ann.Example AND domain:https://www.Example.com/ "
        "AND url:example.com/sale AND lang:th-TH AND network:bluesky AND has:media"
    )
    assert node == And(
        (
            Field("hashtag", "promo"),
            Field("mention", "chorus"),
            Field("author", "ann.example"),
            Field("domain", "example.com"),
            Field("url", "example.com/sale"),
            Field("lang", "th"),
            Field("network", "bluesky"),
            Field("has", "media"),
        )
    )


def test_lower_case_operators_are_words():
    assert parse('"and" OR or') == Or((Term("and"), Term("or")))


@pytest.mark.parametrize(
    ("query", "column", "code"),
    [
        ("brand AND NEAR/ late", 16, "near_distance"),
        ("brand NEAR/x late", 12, "near_distance"),
        ("brand NEAR/0 late", 12, "near_distance"),
        ("brand late", 7, "missing_operator"),
        ("(brand OR late", 1, "unbalanced_parenthesis"),
        ("brand OR late)", 14, "unbalanced_parenthesis"),
        ('brand OR "late', 10, "unclosed_quote"),
        ("brand AND", 10, "unexpected_end"),
        ("AND brand", 1, "misplaced_operator"),
        ("brand AND ()", 11, "empty_group"),
        ("brand OR foo:bar", 10, "unknown_field"),
        ("brand AND lang:", 16, "invalid_field"),
        ("brand AND network:myspace", 19, "invalid_field"),
        ("brand AND has:video", 15, "invalid_field"),
        ("br*nd", 3, "wildcard"),
        ('"bra*nd"', 5, "wildcard"),
        ("b*", 1, "matches_everything"),
        ("brand NEAR/3 (a AND b)", 14, "near_operand"),
        ("", 1, "empty"),
        ('""', 1, "empty_phrase"),
        ("NOT spam", 1, "matches_everything"),
        ("lang:th AND has:link", 1, "matches_everything"),
        ("brand OR NOT spam", 1, "matches_everything"),
    ],
)
def test_errors_point_at_the_column(query, column, code):
    with pytest.raises(QueryError) as caught:
        parse(query)
    assert (caught.value.column, caught.value.code) == (column, code)
    if code not in ("matches_everything", "empty", "empty_phrase"):
        assert f"column {column}" in caught.value.message


def test_the_issue_example_message():
    with pytest.raises(QueryError, match="NEAR/ needs a number at column 14"):
        parse("a AND b NEAR/ late")


def test_anchored_queries_pass():
    parse("brand AND NOT spam AND lang:th")
    parse("#promo OR author:ann.example OR domain:example.com")
