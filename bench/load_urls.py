"""URLconf of the catalog load comparison's gunicorn: the project's URLs, the admin as reference.

The CombinationAdmin lists 50 rows and searches the product name, as in the in-process
catalog comparison (`bench.catalog_compare.admin_reference`).
"""

from django.urls import include, path

from bench.catalog_compare import admin_reference

urlpatterns = [path("", include("backoffice.urls"))]

# After urlpatterns: admin_reference() reverses the admin's URL, which loads this URLconf.
admin_reference()
