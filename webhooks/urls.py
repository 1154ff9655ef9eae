from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("hooks/licendi", views.receiver, name="receiver"),
    path("webhooks/", views.event_list, name="event_list"),
    path("webhooks/events/reprocess/", views.events_reprocess, name="events_reprocess"),
    path("webhooks/events/<int:pk>/", views.event_detail, name="event_detail"),
    path("webhooks/events/<int:pk>/reprocess/", views.event_reprocess, name="event_reprocess"),
    path("webhooks/endpoints/", views.endpoint_list, name="endpoint_list"),
    path("webhooks/endpoints/<int:pk>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("webhooks/endpoints/<int:pk>/rotate/", views.endpoint_rotate, name="endpoint_rotate"),
    path(
        "webhooks/endpoints/<int:pk>/finish-rotation/",
        views.endpoint_rotate_finish,
        name="endpoint_rotate_finish",
    ),
    path(
        "webhooks/endpoints/upstream/<path:upstream_id>/delete/",
        views.endpoint_orphan_delete,
        name="endpoint_orphan_delete",
    ),
]
