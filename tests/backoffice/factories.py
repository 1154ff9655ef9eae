"""Factories for the project-level models."""

import factory
from django.contrib.auth import get_user_model

from backoffice.models import AuditEvent


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff-{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@reseller.example")
    password = factory.django.Password("pw-for-tests-only")


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    action = AuditEvent.Action.PO_CONFIRM
    actor_name = "someone"
    target_type = "orders.PurchaseOrder"
    target_id = factory.Sequence(str)
    summary = factory.LazyAttribute(lambda o: f"PO {o.target_id} confirmed")
