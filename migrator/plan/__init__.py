"""Plan: the exact payloads the loader will send, stored in staging; the target is not touched."""

from migrator.plan.planner import PlanSummary, UnmappedValuesError, plan

__all__ = ["PlanSummary", "UnmappedValuesError", "plan"]
