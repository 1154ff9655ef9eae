"""Request types for views behind a login.

`permission_required` (backoffice.auth) lets only an authenticated user through, but
Django types `request.user` as `User | AnonymousUser`. A view behind it annotates its
request as `AuthenticatedHttpRequest` so `request.user` is the user model, checked by
mypy without casts:

    @permission_required(p.MANAGE_USERS)
    def user_list(request: AuthenticatedHttpRequest) -> HttpResponse: ...
"""

from django.contrib.auth.models import User
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    user: User
