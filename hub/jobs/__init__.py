"""The hub's scheduled jobs: a runner that runs each once per period across hub processes,
and the jobs (expiry, reminders, tiers, campaigns, retention, backup).

``failed_jobs()`` lists the jobs whose latest run failed, for the overview's alert.
"""

from hub.jobs.runner import failed_jobs

__all__ = ["failed_jobs"]
