"""/docs in headless Chromium with every request to another host refused (the network off): Swagger UI renders
the API's operations from the vendored files alone."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Site, screenshot


def test_the_api_docs_render_offline(site: Site, page: Page) -> None:
    ours = urlsplit(site.base).netloc
    elsewhere: list[str] = []

    def only_ours(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", only_ours)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto(site.base + "docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("minutes read API")
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/decisions").first).to_be_visible()
    screenshot(page, "api-docs", full_page=False)
    assert elsewhere == [] and problems == []
