"""The API docs page renders with no internet: Swagger UI comes from Chorus itself."""

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_offline_with_no_inline_script(page, live_server):
    ours = urlsplit(live_server.url).netloc
    elsewhere = []

    def only_chorus(route):
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:  # a machine without internet: every other address fails
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_chorus)
    page.goto("/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title:has-text('Chorus API')")
    page.wait_for_selector(".opblock-summary-path[data-path='/api/v1/posts']")
    assert elsewhere == []
    # A strict Content-Security-Policy allows no inline script: only files and JSON data.
    inline = page.eval_on_selector_all(
        "script:not([src])", "nodes => nodes.map(n => n.type).filter(t => t !== 'application/json')"
    )
    assert inline == []
