"""The account flows a newcomer goes through, in a real Chromium."""

import re

import pytest
from django.core import mail

from chorus.accounts.models import Membership, User
from chorus.accounts.roles import Role
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_creates_a_workspace_and_lands_on_it(page):
    page.goto("/signup/")
    page.fill("#id_full_name", "Sokha Chan")
    page.fill("#id_email", "sokha@example.org")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_workspace_name", "Angkor Tea")
    page.select_option("#id_workspace_timezone", "Asia/Phnom_Penh")
    page.click("#sign-up")
    page.wait_for_selector("h1:has-text('Angkor Tea')")
    assert "Asia/Phnom_Penh" in page.inner_text("main")
    membership = Membership.objects.get(user__email="sokha@example.org")
    assert membership.role == Role.OWNER


def test_sign_up_shows_errors_and_keeps_input(page, owner):
    page.goto("/signup/")
    page.fill("#id_email", owner.user.email)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_workspace_name", "Second")
    page.click("#sign-up")
    page.wait_for_selector(".errorlist")
    assert "already exists" in page.inner_text(".errorlist")
    assert page.input_value("#id_workspace_name") == "Second"


def test_log_in_wrong_password_then_right_then_log_out(page, owner):
    page.goto("/")
    page.wait_for_url("**/login/**")
    page.fill("#id_username", owner.user.email)
    page.fill("#id_password", "wrong-password")
    page.click("#login")
    page.wait_for_selector(".errorlist")
    page.fill("#id_password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#workspace-switcher")
    page.click("#logout")
    page.wait_for_url("**/login/")


def test_switch_workspace(signed_in_page, owner):
    from chorus.accounts import services

    services.workspace_create(name="Second Brand", owner=owner.user)
    page = signed_in_page
    page.reload()
    page.select_option("#workspace-select", label="Second Brand")
    page.wait_for_selector("h1:has-text('Second Brand')")
    page.goto("/members/")
    assert page.locator("#members tbody tr").count() == 1
    page.select_option("#workspace-select", label="Acme")
    page.wait_for_selector("h1:has-text('Acme')")


def test_invite_a_member_who_signs_up_from_the_link(signed_in_page, browser, live_server):
    page = signed_in_page
    page.goto("/members/")
    page.fill("#invite-form #id_email", "sreymom@example.org")
    page.select_option("#invite-form #id_role", "editor")
    page.click("#invite-form button[type=submit]")
    page.wait_for_selector("#invitations:has-text('sreymom@example.org')")
    link = re.search(r"https?://\S+/invitations/\S+/", mail.outbox[-1].body).group(0)
    path = link.split("/invitations/", 1)[1]

    guest = browser.new_context(base_url=live_server.url).new_page()
    guest.goto(f"/invitations/{path}")
    guest.fill("#id_full_name", "Sreymom")
    guest.fill("#id_password", PASSWORD)
    guest.select_option("#id_language", "km")
    guest.click("#accept")
    guest.wait_for_selector("#workspace-switcher")
    assert guest.locator("html").get_attribute("lang") == "km"
    user = User.objects.get(email="sreymom@example.org")
    assert Membership.objects.get(user=user).role == Role.EDITOR

    page.goto("/members/")
    assert page.locator("#members tr[data-email='sreymom@example.org']").count() == 1


def test_viewer_does_not_see_or_reach_admin_pages(page, make_member, owner):
    viewer = make_member(Role.VIEWER, workspace=owner.workspace)
    page.goto("/login/")
    page.fill("#id_username", viewer.user.email)
    page.fill("#id_password", PASSWORD)
    page.click("#login")
    page.wait_for_selector("#workspace-switcher")
    nav = page.inner_text("nav")
    assert "Members" in nav and "Workspace" not in nav
    assert page.locator("#invite-form").count() == 0
    response = page.goto("/workspace/settings/")
    assert response.status == 403
