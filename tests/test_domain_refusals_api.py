"""A rule's refusal reaches the client the same way whoever refuses first: the API's own check,
or the workflow's, whose field the API turns into the problem's JSON Pointer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.test_api_basics import assert_problem
from tests.test_reviews_api import create_review

pytestmark = pytest.mark.usefixtures("worker")


async def test_the_workflows_refusal_of_an_extension_names_the_field_by_pointer(
    api: Any, ece_secretariat: Any
) -> None:
    review = await create_review(api, ece_secretariat)
    due = datetime.fromisoformat(review["deadlines"]["inputs_due_at"])
    # In the future (the API lets it through), but not later than the deadline: the workflow
    # refuses it.
    earlier = {"deadline": "inputs_due_at", "until": (due - timedelta(days=1)).isoformat()}
    response = await api.post(
        f"/v1/reviews/{review['id']}/extensions",
        json={**earlier, "reason": "x"},
        headers=ece_secretariat.headers,
    )
    body = await assert_problem(response, 422)
    message = f"An extension must move inputs_due_at later than {due.isoformat()}."
    assert body["detail"] == message
    assert body["errors"] == [{"pointer": "/until", "message": message}]


async def test_one_states_extension_outside_the_review_names_every_fault_in_one_answer(
    api: Any, ece_secretariat: Any
) -> None:
    review = await create_review(api, ece_secretariat)
    until = datetime.fromisoformat(review["deadlines"]["report_due_at"]) + timedelta(days=1)
    response = await api.post(
        f"/v1/reviews/{review['id']}/extensions",
        json={
            "deadline": "report_due_at",
            "until": until.isoformat(),
            "reason": "x",
            "country": "BRA",
        },
        headers=ece_secretariat.headers,
    )
    body = await assert_problem(response, 422)
    assert body["errors"] == [
        {"pointer": "/country", "message": "BRA is not a member State of this review."},
        {
            "pointer": "/deadline",
            "message": "Only inputs_due_at can be extended for one member State.",
        },
    ]


async def test_the_workflows_refusal_reads_in_the_language_the_client_asks_for(
    api: Any, ece_secretariat: Any
) -> None:
    """The workflow refuses in English, as on every replay; the API answers in the language
    of Accept-Language, the deadline written as that language writes it."""
    review = await create_review(api, ece_secretariat)
    due = datetime.fromisoformat(review["deadlines"]["inputs_due_at"])
    earlier = {"deadline": "inputs_due_at", "until": (due - timedelta(days=1)).isoformat()}
    response = await api.post(
        f"/v1/reviews/{review['id']}/extensions",
        json={**earlier, "reason": "x"},
        headers={**ece_secretariat.headers, "Accept-Language": "es-ES, en;q=0.5"},
    )
    body = await assert_problem(response, 422)
    assert response.headers["Content-Language"] == "es"
    assert body["detail"].startswith("Una prórroga debe trasladar «inputs_due_at» a una fecha")
    assert f" de {due.year}, " in body["detail"] and due.isoformat() not in body["detail"]
    assert body["errors"] == [{"pointer": "/until", "message": body["detail"]}]
