"""plansentry.telemetry."""
