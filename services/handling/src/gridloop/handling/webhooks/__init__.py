"""Webhooks: ticket events delivered into departments' own systems (Standard Webhooks)."""
