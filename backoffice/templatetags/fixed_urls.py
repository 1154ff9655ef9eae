"""`{% fixed_url 'name' %}`: `{% url 'name' %}` for a URL without arguments, reversed once
per process (`backoffice.context_processors.fixed_url`); `as var` works as with `url`."""

from django import template

from backoffice.context_processors import fixed_url as _fixed_url

register = template.Library()


@register.simple_tag
def fixed_url(name: str) -> str:
    return _fixed_url(name)
