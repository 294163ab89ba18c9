"""Which requests are pages: everything but the JSON API and the service's own endpoints."""

from __future__ import annotations

# Paths of the JSON API and of the service's own endpoints: everything else is a page.
NOT_PAGES = ("/v1/", "/healthz", "/readyz", "/openapi.json", "/docs")


def is_page(path: str) -> bool:
    return not path.startswith(NOT_PAGES) and path != "/v1"
