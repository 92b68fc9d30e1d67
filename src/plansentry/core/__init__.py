"""plansentry.core."""
