"""WCAG 2.1 AA on every page of the navigation, signed in and out, checked by axe-core.

axe-core comes from the npm registry (tests/a11y, installed by its setup.sh) and is evaluated
in the page by the test, so Chorus never serves it. Any violation fails the test with the rule,
its impact and the elements it names. A second group of tests drives the keyboard: the skip
link, the focus a form's message receives, and the visible focus of the upload control.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Best-practice rules that the audit found broken, run beside the WCAG ones.
ALSO = ["empty-table-header", "skip-link", "landmark-one-main"]


def axe_violations(page) -> list[dict]:
    if not AXE.is_file():
        pytest.fail(f"axe-core missing at {AXE}: run tests/a11y/setup.sh", pytrace=False)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async ([tags, also]) => {
            const rules = Object.fromEntries(also.map(id => [id, {enabled: true}]));
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, rules});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary),
            }));
        }""",
        [WCAG_21_AA, ALSO],
    )


def report(url: str, violations: list[dict]) -> str:
    lines = [f"{url}:"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"      {node}" for node in v["nodes"])
    return "\n".join(lines)


@pytest.fixture
def workspace_with_content(owner, make_member, mastodon_account):
    """A workspace where every page has something to show: posts on the calendar, one
    waiting for approval, a campaign, a policy, a workflow, a queue slot, a team."""
    from chorus.accounts import services as account_services
    from chorus.governance import services as governance_services
    from chorus.networks import services as network_services
    from chorus.publishing import campaigns, services
    from chorus.publishing.approval_workflows import StepInput, workflow_save
    from chorus.publishing.services import VariantInput

    workspace = owner.workspace
    account_services.team_create(actor=owner, name="Care")
    campaign = campaigns.campaign_save(actor=owner, name="Rainy season")
    governance_services.policy_create(
        actor=owner, name="No promises", kind="banned_terms", terms=["guarantee"]
    )
    workflow_save(actor=owner, name="Legal review", steps=[StepInput(role="admin")])
    campaigns.queue_slots_set(
        actor=owner, account=mastodon_account, slots=[(0, dt.time(9)), (3, dt.time(15))]
    )
    soon = timezone.now() + dt.timedelta(days=2)
    for n in range(3):
        post = services.post_save(
            actor=owner,
            variants=[VariantInput(account_id=mastodon_account.pk, text=f"Post {n} ☔ #rain")],
            campaign_id=campaign.pk,
        )
        services.post_schedule(actor=owner, post=post, at=soon + dt.timedelta(hours=n))
    contributor = make_member("contributor", workspace=workspace)
    network_services.account_set_members(
        actor=owner, account=mastodon_account, memberships=[contributor]
    )
    pending = services.post_save(
        actor=contributor,
        variants=[VariantInput(account_id=mastodon_account.pk, text="Needs a look first")],
    )
    services.post_schedule(actor=contributor, post=pending, at=soon)
    conversation = _inbox_conversation(owner, mastodon_account)
    topic, board = _listening_board(owner)
    return {
        "post": post,
        "account": mastodon_account,
        "campaign": campaign,
        "conversation": conversation,
        "topic": topic,
        "board": board,
    }


def _listening_board(owner):
    """A topic with a matched post (with its save and answer forms), saved to a board."""
    from chorus.listening import boards, services
    from chorus.listening.models import Mention

    topic = services.topic_create(actor=owner, name="Rain")
    query = services.query_create(actor=owner, topic=topic, name="Us", text="rain")
    mention = Mention.objects.create(
        workspace=owner.workspace,
        network="mastodon",
        uri="https://social.example/users/fan/statuses/1",
        url="https://social.example/@fan/1",
        author="fan@social.example",
        text="ភ្លៀងធ្លាក់ rain all day",
        language="km",
        posted_at=timezone.now(),
    )
    mention.queries.add(query)
    board = boards.board_create(actor=owner, name="Praise to share")
    boards.board_save_mention(actor=owner, board=board, mention=mention, note="For the newsletter")
    return topic, board


def _inbox_conversation(owner, account):
    """A conversation in the inbox, with a note, a rule and a saved reply around it."""
    from chorus.inbox import ingest
    from chorus.inbox import services as inbox_services
    from chorus.networks.providers.base import Interaction, InteractionPage

    mention = Interaction(
        kind="mention",
        remote_id="a11y-1",
        author_handle="fan@example.org",
        created_at=timezone.now(),
        author_name="Fan",
        text="ចុះពេលណាហាងបើក?",
    )
    ingest.store_page(account, InteractionPage(items=(mention,), cursor="1"), now=timezone.now())
    conversation = account.conversations.get()
    inbox_services.note_add(actor=owner, conversation=conversation, text="Ask the shop")
    inbox_services.rule_save(actor=owner, data={"name": "Khmer", "languages": ["km"]})
    inbox_services.saved_reply_save(actor=owner, name="Thanks", text="Thanks {name}!")
    return conversation


def signed_in_pages(content) -> list[str]:
    post, account, campaign = content["post"], content["account"], content["campaign"]
    return [
        "/",
        "/posts/new/",
        f"/posts/{post.pk}/",
        f"/posts/{post.pk}/edit/",
        "/calendar/",
        "/calendar/?view=week",
        "/calendar/?view=list",
        "/campaigns/",
        "/campaigns/new/",
        f"/campaigns/{campaign.pk}/",
        "/queue/",
        "/on-time/",
        "/posts/import/",
        "/approvals/",
        "/approvals/workflows/",
        "/approvals/workflows/new/",
        "/social-accounts/",
        f"/social-accounts/{account.pk}/",
        "/members/",
        "/workspace/settings/",
        "/workspaces/new/",
        "/governance/policies/",
        "/governance/policies/new/",
        "/governance/audit/",
        "/me/",
        "/me/tokens/",
        "/inbox/",
        f"/inbox/?c={content['conversation'].pk}",
        "/inbox/setup/",
        f"/inbox/setup/rules/{_first_rule_id()}/",
        "/inbox/figures/",
        "/links/",
        "/links/settings/",
        "/links/conversions/",
        "/goals/",
        "/analytics/",
        "/analytics/best-time/",
        "/analytics/reports/",
        "/listening/",
        "/listening/alerts/",
        "/listening/boards/",
        f"/listening/topics/{content['topic'].pk}/",
        f"/listening/boards/{content['board'].pk}/",
    ]


def test_the_audited_pages_include_every_page_of_the_navigation(db):
    from django.urls import reverse

    from chorus.web.context_processors import NAVIGATION

    audited = {url.split("?")[0] for url in signed_in_pages(_NO_CONTENT)}
    missing = {reverse(name) for name, _label, _capability in NAVIGATION} - audited
    assert not missing, f"pages of the navigation axe never sees: {sorted(missing)}"


class _Anything:
    """Stands in for the content when only the list of URLs is wanted."""

    pk = 0

    def __getitem__(self, _key):
        return self


_NO_CONTENT = _Anything()


def _first_rule_id() -> int:
    from chorus.inbox.models import RoutingRule

    return RoutingRule.objects.values_list("pk", flat=True).first()


def test_every_signed_in_page_has_no_wcag_violation(signed_in_page, workspace_with_content):
    failures = []
    for url in signed_in_pages(workspace_with_content):
        signed_in_page.goto(url)
        violations = axe_violations(signed_in_page)
        if violations:
            failures.append(report(url, violations))
    assert not failures, "\n".join(failures)


def test_every_signed_out_page_has_no_wcag_violation(page, db):
    failures = []
    for url in ["/login/", "/signup/", "/password/reset/", "/invitations/not-a-token/"]:
        page.goto(url)
        violations = axe_violations(page)
        if violations:
            failures.append(report(url, violations))
    assert not failures, "\n".join(failures)


def test_a_skip_link_is_the_first_tab_stop_and_reaches_the_content(signed_in_page):
    signed_in_page.goto("/posts/new/")
    signed_in_page.keyboard.press("Tab")
    focused = signed_in_page.evaluate("() => document.activeElement.getAttribute('href')")
    assert focused == "#content"
    assert signed_in_page.evaluate("() => document.activeElement.getBoundingClientRect().height")
    signed_in_page.keyboard.press("Enter")
    assert signed_in_page.evaluate("() => document.activeElement.id") == "content"


def test_the_message_after_a_form_receives_the_focus(signed_in_page):
    signed_in_page.goto("/campaigns/new/")
    signed_in_page.fill("#id_name", "Songkran")
    signed_in_page.click("#save-campaign")
    signed_in_page.wait_for_selector(".messages")
    role = signed_in_page.evaluate(
        """() => document.activeElement.closest('.messages')
                  ? 'message' : document.activeElement.tagName"""
    )
    assert role == "message"


def test_help_texts_are_announced_with_their_fields(signed_in_page):
    signed_in_page.goto("/governance/policies/new/")
    described = signed_in_page.eval_on_selector_all(
        "[aria-describedby]",
        """els => els.map(el => el.getAttribute('aria-describedby').split(' ')
                  .every(id => document.getElementById(id)))""",
    )
    assert described and all(described)


def test_the_upload_control_shows_where_the_focus_is(signed_in_page, workspace_with_content):
    signed_in_page.goto("/posts/new/")
    look = """() => {
        const style = getComputedStyle(document.querySelector('label[for="id_upload"]'));
        return [style.outlineStyle, style.outlineWidth, style.boxShadow].join(' ');
    }"""
    unfocused = signed_in_page.evaluate(look)
    signed_in_page.focus("#id_text")
    signed_in_page.keyboard.press("Tab")  # from the text to the (visually hidden) file input
    assert signed_in_page.evaluate("() => document.activeElement.id") == "id_upload"
    assert signed_in_page.evaluate(look) != unfocused


def test_the_sticky_action_bar_never_covers_the_focused_field(
    signed_in_page, workspace_with_content
):
    """Tab into the campaign field while it sits just behind the sticky bar at the bottom."""
    signed_in_page.set_viewport_size({"width": 1280, "height": 700})
    signed_in_page.goto("/posts/new/")
    signed_in_page.evaluate(
        """() => {
            const field = document.getElementById('id_campaign');
            const bar = document.querySelector('.composer-actions').getBoundingClientRect();
            const candidates = 'input, select, textarea, button, a[href], summary';
            const focusable = [...document.querySelectorAll(candidates)]
                .filter(el => el.tabIndex >= 0 && !el.disabled && el.checkVisibility());
            focusable[focusable.indexOf(field) - 1].focus({preventScroll: true});
            const top = field.getBoundingClientRect().top + window.scrollY;
            window.scrollTo(0, top - window.innerHeight + bar.height / 2);
        }"""
    )
    signed_in_page.keyboard.press("Tab")
    assert signed_in_page.evaluate("() => document.activeElement.id") == "id_campaign"
    covered = signed_in_page.evaluate(
        """() => {
            const field = document.activeElement.getBoundingClientRect();
            const bar = document.querySelector('.composer-actions').getBoundingClientRect();
            return field.bottom > bar.top && field.top < bar.bottom;
        }"""
    )
    assert covered is False
