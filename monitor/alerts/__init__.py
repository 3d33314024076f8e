"""Spike and crisis alerts: one alert per storm, opened within the hour, delivered by mail and
chat through an outbox, shown in the web UI.

- `stats`: the pure spike test (small counts included), explained in the README.
- `evidence`: the top posts and terms that drive an alert, as plain data.
- `records`: opening, updating, reopening and closing an alert, with its outbox rows.
- `check`: the hourly check per brand (`rufwacht alerts run`, the scheduler's `alerts` job).
- `intake`: the immediate alert for a queued crisis, threat or loud post.
- `messages` and `outbox`: the German mail and chat message, delivered after the fact.
- `queries`: reading alerts within a user's brands (UI, API, CLI, the digest).
"""
