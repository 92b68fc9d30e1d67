"""plansentry.report."""
