"""plansentry.runtime."""
