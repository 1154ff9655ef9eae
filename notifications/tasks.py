"""Celery tasks of the notifications: thin, each calls one service."""

from celery import shared_task

from . import services


@shared_task(name="notifications.tasks.notifications_scan")
def notifications_scan() -> dict[str, int]:
    result = services.notifications_scan()
    return {"created": result.created, "emailed": result.emailed}


@shared_task(name="notifications.tasks.notifications_for_purchase_order")
def notifications_for_purchase_order(purchase_order_id: int) -> dict[str, int]:
    result = services.notifications_for_purchase_order(purchase_order_id=purchase_order_id)
    return {"created": result.created, "emailed": result.emailed}
