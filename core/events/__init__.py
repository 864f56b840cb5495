"""External events, app events and schedules: what the domain knows of them (docs/events.md)."""
