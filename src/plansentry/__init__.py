"""plansentry: a runtime guard for LLM planners in robot control loops."""
