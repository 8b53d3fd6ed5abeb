"""nines SLO service: SLO specs in, error budgets, burn rates, rules and reports out."""
