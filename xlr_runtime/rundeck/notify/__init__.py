"""Notifications: events, webhooks, plugins and e-mail, sent at most once per target."""
