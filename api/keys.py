"""Typed keys for what the application and each request hold."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from temporalio.client import Client

from api.updates import UpdateGate
from config.settings import Settings
from domain.access import Actor
from notifications.webhooks import WebhookPolicy
from services.engine import Deps
from services.metrics import DatabaseGauges

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
TEMPORAL = web.AppKey("temporal", Client)
ACTOR = web.RequestKey("actor", Actor)
UPDATE_GATE = web.AppKey("update_gate", UpdateGate)
WEBHOOK_POLICY = web.AppKey("webhook_policy", WebhookPolicy)
SERVICES = web.AppKey("services", Deps)
DATABASE_METRICS = web.AppKey("database_metrics", DatabaseGauges)
