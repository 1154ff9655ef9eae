"""Project-level pages under the `backoffice` namespace (health, audit log)."""

app_name = "backoffice"

urlpatterns: list = []
