"""Every line an activity of a review logs names the review: its id is in the review
workflow's id, which the activity's info carries."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from config.logs import log_context
from workflows.review import review_of_workflow


class _ReviewLogContext(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        review_id = review_of_workflow(activity.info().workflow_id or "")
        with log_context(request_id=None, review_id=review_id):
            return await self.next.execute_activity(input)


class ReviewLogContext(Interceptor):
    """The worker's interceptor that sets the review id of each activity's log lines."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ReviewLogContext(next)
