"""Project-level pages: the home dashboard."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import permissions as p
from .auth import permission_required


@permission_required(p.VIEW)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")
