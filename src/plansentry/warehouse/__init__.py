"""plansentry.warehouse."""
