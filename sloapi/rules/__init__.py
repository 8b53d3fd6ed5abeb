"""Prometheus rule generation: Sloth-compatible recordings and multi-window burn-rate alerts."""

from sloapi.rules.alerts import BurnTier, tiers_for
from sloapi.rules.generate import generate_groups, render_rules

__all__ = ["BurnTier", "generate_groups", "render_rules", "tiers_for"]
