"""plansentry.planners."""
