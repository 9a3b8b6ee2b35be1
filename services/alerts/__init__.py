"""Alerts: stored subscriptions, and a worker that delivers matching decisions by webhook or Apprise."""
