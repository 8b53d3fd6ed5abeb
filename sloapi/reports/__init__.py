"""Monthly availability reports: compute, render, keep and mail a calendar month per SLO."""
