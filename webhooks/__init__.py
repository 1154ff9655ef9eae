"""Licendi webhook endpoints, the signed-delivery receiver and the event log."""
