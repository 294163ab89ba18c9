"""The workflows call activities through typed stubs: each stub matches the implementation the
worker registers under its name, and no workflow names an activity by a string."""

from __future__ import annotations

import ast
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity

from activities.consultation import ConsultationActivities
from activities.notify import NotificationActivities
from activities.report import ReportActivities
from activities.retention import RetentionActivities
from activities.review import ReviewActivities
from activities.rollup import RollupActivities
from workflows import activity_stubs

IMPLEMENTATION_CLASSES = (
    ReviewActivities,
    ConsultationActivities,
    ReportActivities,
    NotificationActivities,
    RetentionActivities,
    RollupActivities,
)
WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"


def _name(fn: Callable[..., Any]) -> str:
    return activity._Definition.must_from_callable(fn).name


def _types(fn: Callable[..., Any]) -> tuple[list[Any], Any]:
    hints = typing.get_type_hints(fn)
    params = [hints[p] for p in inspect.signature(fn).parameters if p != "self"]
    return params, hints["return"]


def _stubs() -> dict[str, Callable[..., Any]]:
    return {
        _name(fn): fn
        for _, fn in inspect.getmembers(activity_stubs, inspect.iscoroutinefunction)
        if fn.__module__ == activity_stubs.__name__
    }


def _implementations() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for cls in IMPLEMENTATION_CLASSES:
        for _, method in inspect.getmembers(cls, inspect.iscoroutinefunction):
            if hasattr(method, "__temporal_activity_definition"):
                found[_name(method)] = method
    return found


def test_every_stub_matches_the_implementation_registered_under_its_name() -> None:
    stubs, implementations = _stubs(), _implementations()
    # The names recorded in the saved histories: renaming one would break running reviews.
    assert set(stubs) == {
        "store_review",
        "record_change",
        "accept_submissions",
        "send_reminder",
        "send_reminder_now",
        "open_consultation",
        "close_tasks",
        "move_task_deadline",
        "check_consultation",
        "compile_report",
        "publish_report",
        "deliver_notifications",
        "purge_expired",
        "gather_rollup",
        "compile_rollup",
        "publish_rollup",
    }
    assert set(implementations) == set(stubs)
    for name, stub in stubs.items():
        assert _types(stub) == _types(implementations[name]), name


def test_no_workflow_names_an_activity_by_a_string() -> None:
    by_name: list[str] = []
    for path in WORKFLOWS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"execute_activity", "start_activity"}
            ):
                target = ast.unparse(node.args[0])
                # `activity` is the parameter of the helper that starts the long activities.
                if not (target.startswith("stubs.") or target == "activity"):
                    by_name.append(f"{path.name}:{node.lineno} {target}")
    assert by_name == []
