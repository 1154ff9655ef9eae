"""What the back-office noticed about Licendi's answers: quarantined records and drift.

Catalog, wallet and orders all report here (they must not import each other), through
`backoffice.upstream_problems`. Nothing stored here holds a licence key or a secret: the
client redacts raw JSON and examples before they leave it.
"""

from __future__ import annotations

from django.db import models


class QuarantinedRecord(models.Model):
    """One upstream record that could not be read and was skipped, with the reason.

    Stored per occurrence: each run shows what it skipped, even when the same broken
    record comes back every run.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # What was reading: "catalog.sync", "orders.import", ...
    source = models.CharField(max_length=40)
    # The run that skipped it, as "<app.Model>:<pk>" (no foreign key: any app may report).
    run_ref = models.CharField(max_length=60, blank=True, db_index=True)
    endpoint = models.CharField(max_length=100)  # "GET /api/products/{sku}"
    ref = models.CharField("record", max_length=200)  # sku or id, else its position
    field = models.CharField(max_length=200, blank=True)  # "items[].price"
    reason = models.TextField()
    raw = models.JSONField(null=True, blank=True)  # redacted JSON of the record

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["source", "ref"], name="quarantine_source_ref")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.ref}: {self.reason[:80]}"


class DriftObservation(models.Model):
    """One kind of deviation from the contract on one field of one endpoint, counted.

    A row appears the first time a shape is seen (that is "a new shape"); later
    sightings only raise `count` and `last_seen_at`. Acknowledging a row says a person
    has looked at it: it is no longer announced as new.
    """

    class Kind(models.TextChoices):
        COERCION = "coercion", "Coerced value"
        UNKNOWN_FIELD = "unknown_field", "Unknown field"
        MISSING_FIELD = "missing_field", "Missing optional field"

    endpoint = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    field = models.CharField(max_length=200)
    detail = models.CharField(max_length=200, blank=True)  # "number -> boolean"
    count = models.PositiveBigIntegerField(default=0)
    example = models.JSONField(null=True, blank=True)  # redacted, first sighting
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "endpoint", "field"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "kind", "field", "detail"], name="driftobservation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.kind} {self.field}"
