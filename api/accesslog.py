"""The access log: one JSON line per request, without tokens, query strings or bodies."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from api.observe import REQUEST_ID_KEY, REVIEW_ID_KEY, ROUTE_KEY
from config.logs import FIELDS

ACCESS_LOGGER = logging.getLogger("reviewflow.access")


class JsonAccessLogger(AbstractAccessLogger):
    """Method, path, route, status, duration and size of each request, with its request id
    and review id. The path holds ids at most; the query (paging cursors, filters) and every
    header (the bearer token) are left out."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %d",
            request.method,
            request.path,
            response.status,
            extra={
                FIELDS: {
                    "request_id": request.get(REQUEST_ID_KEY),
                    "review_id": request.get(REVIEW_ID_KEY),
                    "method": request.method,
                    "path": request.path,
                    "route": request.get(ROUTE_KEY),
                    "status": response.status,
                    "duration_ms": round(time * 1000, 1),
                    "bytes": response.body_length,
                }
            },
        )


# What an aiohttp AppRunner (or TestServer) is given to write this access log.
ACCESS_LOG_OPTIONS: dict[str, Any] = {
    "access_log_class": JsonAccessLogger,
    "access_log": ACCESS_LOGGER,
}
