"""Which requests are pages: everything but the JSON API and the service's own endpoints."""

from __future__ import annotations

import re

# Paths of the JSON API and of the service's own endpoints: everything else is a page.
NOT_PAGES = ("/v1/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs")


def is_page(path: str) -> bool:
    return not path.startswith(NOT_PAGES) and path != "/v1"


# A published report's files and the feed of publications: the same for everyone, cacheable,
# so their answers carry no session or cookie.
_PUBLISHED_FILE = re.compile(r"/reports/[^/]+\.(pdf|json|md|html|atom)")


def is_published_file(path: str) -> bool:
    return _PUBLISHED_FILE.fullmatch(path) is not None
