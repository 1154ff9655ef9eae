"""Wallet state for the low-balance banner shown across the back-office."""

from django.http import HttpRequest


def wallet_status(request: HttpRequest) -> dict:
    return {}
