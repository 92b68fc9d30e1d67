"""plansentry.sim."""
