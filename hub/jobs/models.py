"""The job runner's tables: one row per job and period (the claim), and the owner's job settings."""

from peewee import AutoField, CharField, DateTimeField, IntegerField, TextField

from hub.ingest.models import BaseModel


class JobRun(BaseModel):
    """One job's run for one period (a local day, or a slot of minutes).

    ``(job, period)`` is unique: a runner inserts the row first, and only the runner whose
    ``claim`` token the row holds runs the job, so two hub processes never run a period twice.
    ``status`` is ``running``, ``ok`` or ``failed``; a failed run is retried (``attempts``) by
    the next check, a run left ``running`` by a crashed process is taken over after a while.
    """

    id = AutoField()
    job = CharField()
    period = CharField()
    status = CharField(index=True)
    attempts = IntegerField(default=1)
    claim = CharField()
    runner = CharField(default="")
    started_at = DateTimeField()
    finished_at = DateTimeField(null=True)
    summary = TextField(default="")

    class Meta:
        indexes = ((("job", "period"), True),)


class JobSetting(BaseModel):
    """A setting the owner chose for a job (e.g. ``retention_months``), as text."""

    key = CharField(primary_key=True)
    value = TextField()


MODELS = [JobRun, JobSetting]
