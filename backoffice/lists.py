"""The one list page: table, filter, capped pagination, sorting and audited export.

Every list of the back-office is a `ListPageView` (or, for a page that shows several
tables, calls `configure_table` for each). This is the one place that reads `page`,
`per_page` and `sort` from a query string, so none of them can ask for more than
`MAX_PER_PAGE` rows or answer a 500:

- `per_page` is one of `PER_PAGE_CHOICES`; anything else is the table's default;
- `page` is a positive number; anything else is page 1, and past the end the last page;
- `sort` names a sortable column (django-tables2 drops the others), anything else is
  ignored;
- filter values are validated by the filter form: invalid ones are shown as form errors
  and the list shows no rows rather than rows the filter did not select.

Exports answer POST (they write an audit row): the same filters and sort, every row,
through `backoffice.exports`.
"""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any, ClassVar, cast

import django_filters
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.views import View

from . import permissions as p
from .audit import audit_record
from .auth import PermissionRequiredMixin
from .exports import EXPORT_FORMATS, export_response
from .form_rendering import CompactFormRenderer, use_fast_selects
from .list_cache import kept_count, one_version_per_scope
from .models import AuditEvent
from .tables import BaseTable

PER_PAGE_CHOICES = (25, 50, 100)
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = max(PER_PAGE_CHOICES)
# A page number past this is no page anyone pages to; it also keeps OFFSET sane.
MAX_PAGE = 1_000_000
EXPORT_FIELD = "_export"
_SORT_KEY = re.compile(r"-?[A-Za-z_][A-Za-z0-9_]{0,63}")


def _positive_int(raw: str | None) -> int | None:
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    value = int(raw)
    return value if value >= 1 else None


class TableQueryNames:
    """What the query-string readers below need of a table, read from its class: the
    names and default page size an instance built without overrides has. A page can
    read its paging and sorting before it builds the table."""

    def __init__(self, table_class: type[BaseTable]) -> None:
        meta = table_class._meta
        self._meta = meta
        self.prefixed_order_by_field = f"{meta.prefix}{meta.order_by_field}"
        self.prefixed_page_field = f"{meta.prefix}{meta.page_field}"
        self.prefixed_per_page_field = f"{meta.prefix}{meta.per_page_field}"


def per_page_from(request: HttpRequest, table: BaseTable | TableQueryNames) -> int:
    default = getattr(table._meta, "per_page", DEFAULT_PER_PAGE)
    if default not in PER_PAGE_CHOICES:
        default = DEFAULT_PER_PAGE
    wanted = _positive_int(request.GET.get(table.prefixed_per_page_field))
    return wanted if wanted in PER_PAGE_CHOICES else default


def page_number_from(request: HttpRequest, table: BaseTable | TableQueryNames) -> int:
    """The page asked for (1 when none or not a positive number; not capped to the end)."""
    return min(_positive_int(request.GET.get(table.prefixed_page_field)) or 1, MAX_PAGE)


def sort_from(request: HttpRequest, table: BaseTable | TableQueryNames) -> list[str]:
    keys: list[str] = []
    for raw in request.GET.getlist(table.prefixed_order_by_field)[:5]:
        keys += [key for key in raw.split(",")[:5] if _SORT_KEY.fullmatch(key)]
    return keys


if TYPE_CHECKING:
    PaginatorBase = Paginator[Any]
else:  # generic to the type checker only (no django-stubs-ext at run time)
    PaginatorBase = Paginator


class KnownCountPaginator(PaginatorBase):
    """A paginator told the row count, when the page already has it (no COUNT query)."""

    def __init__(self, *args: Any, known_count: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if known_count is not None:
            self.__dict__["count"] = known_count  # fills the cached_property


def configure_table(
    request: HttpRequest,
    table: BaseTable,
    *,
    paginate: bool = True,
    paginator_class: type[Paginator[Any]] = Paginator,
    **paginator_kwargs: Any,
) -> BaseTable:
    """Sort and paginate `table` from the request's validated `sort`, `page`, `per_page`."""
    table.request = request
    sort = sort_from(request, table)
    if sort:
        table.order_by = sort
    if paginate:
        table.paginator = paginator_class(
            table.rows, per_page_from(request, table), **paginator_kwargs
        )
        table.page = table.paginator.get_page(page_number_from(request, table))
    return table


def _own_filter(declared: django_filters.Filter) -> django_filters.Filter:
    """A filter set's own copy of a declared filter: what it sets per request (its parent,
    model, label, lookup) is its own; what it only reads (its declaration) is shared."""
    own = copy.copy(declared)
    own.extra = declared.extra.copy()
    if declared.method is not None:
        own.method = declared.method  # a FilterMethod calling through the copy, not `declared`
    return own


class ListFilterSet(django_filters.FilterSet):
    """A list page's filters: compact Bootstrap controls from the one form renderer.

    The two inputs of a range (dates, amounts) share one visible label; each gets its
    own accessible name ("Created from / to (from)").

    The form class is built once per filter set (django-filter builds a field per filter
    and two classes for every request): its fields follow from the filters' declarations
    alone. Choices known only per request (from a cache) come from `filter_choices()` and
    are set on the request's own copy of the fields.
    """

    _form_classes: ClassVar[dict[type[ListFilterSet], type[Any]]] = {}

    def __init__(
        self,
        data: Any = None,
        queryset: QuerySet[Any] | None = None,
        *,
        request: HttpRequest | None = None,
        prefix: str | None = None,
    ) -> None:
        # django-filter's BaseFilterSet.__init__, with a shallow copy of each filter
        # (`_own_filter`) where it deep-copies them all (their widgets, choices, ...):
        # the form class is built once, so a request's filters only filter.
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: _own_filter(f) for name, f in self.base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = queryset.model
            filter_.parent = self

    def filter_choices(self) -> dict[str, list[tuple[Any, Any]]]:
        """The choices of choice filters that are known per request, by filter name
        (from a cache, say)."""
        return {}

    def get_form_class(self) -> type[Any]:
        form_class = self._form_classes.get(type(self))
        if form_class is None:
            form_class = self._form_classes[type(self)] = self._build_form_class()
        return form_class

    def _build_form_class(self) -> type[Any]:
        base = super().get_form_class()
        form_class = type(base.__name__, (base,), {"default_renderer": CompactFormRenderer})
        fields: dict[str, Any] = form_class.base_fields  # type: ignore[attr-defined]
        # Every form deep-copies these fields, so what is set here holds for each of them.
        use_fast_selects(fields)
        for field in fields.values():
            parts = getattr(field.widget, "widgets", None)
            if parts and len(parts) == 2:
                for part, end in zip(parts, ("from", "to"), strict=True):
                    part.attrs.setdefault("aria-label", f"{field.label} ({end})")
        return form_class

    @property
    def form(self) -> Any:
        if not hasattr(self, "_form"):
            form = super().form
            for name, choices in self.filter_choices().items():
                form.fields[name].choices = choices
        return self._form


class ListPageView(PermissionRequiredMixin, View):
    """A page listing rows: subclass it, set the attributes, register `as_view()`.

    Subclasses set `table_class`, `template_name`, `permission_required`, optionally a
    `filterset_class`, and `export_filename` to offer CSV/XLSX exports (to holders of
    `export_permission`). They override `get_queryset`, and `get_context_data` for what
    the page shows beside the table.
    """

    table_class: ClassVar[type[BaseTable]]
    template_name: ClassVar[str]
    filterset_class: ClassVar[type[django_filters.FilterSet] | None] = None
    permission_required: tuple[str, ...] = (p.VIEW,)
    export_filename: ClassVar[str] = ""
    export_title: ClassVar[str] = ""
    export_permission: ClassVar[str] = p.EXPORT_DATA
    filter_form_id: ClassVar[str] = "list-filter"
    show_per_page: ClassVar[bool] = False
    # A `backoffice.list_cache` scope whose writers cover every row of the list: the row
    # count of each filter combination is then kept until those rows change, rather than
    # counted on every page.
    count_scope: ClassVar[str] = ""
    request: HttpRequest

    # --- what a page overrides

    def get_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_table(self, rows: QuerySet[Any]) -> BaseTable:
        return self.table_class(rows)

    def row_count(self, rows: QuerySet[Any]) -> int | None:
        """The number of `rows` if known without a COUNT (kept for `count_scope`)."""
        if not self.count_scope:
            return None
        known = getattr(self, "_row_count", None)  # (rows, count): asked twice per page
        if known is None or known[0] is not rows:
            known = self._row_count = (rows, kept_count(self.count_scope, rows))
        return known[1]

    def get_paginator_options(self, rows: QuerySet[Any]) -> dict[str, Any]:
        count = self.row_count(rows)
        if count is None:
            return {}
        return {"paginator_class": KnownCountPaginator, "known_count": count}

    def page_loaded(self, table: BaseTable) -> None:
        """Called with the page's rows loaded (e.g. to attach what the rows point at)."""

    def get_context_data(self, **context: Any) -> dict[str, Any]:
        return context

    def export_rows(self, table: BaseTable) -> Any:
        """Every filtered row in the table's order, read in chunks."""
        return table.data.data.iterator(chunk_size=2000)

    # --- the machinery

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with one_version_per_scope():
            return super().dispatch(request, *args, **kwargs)

    def get_filterset(self) -> django_filters.FilterSet | None:
        if self.filterset_class is None:
            return None
        return self.filterset_class(
            self.request.GET, queryset=self.get_queryset(), request=self.request
        )

    def filtered_rows(self, filterset: django_filters.FilterSet | None) -> QuerySet[Any]:
        if filterset is None:
            return self.get_queryset()
        if not filterset.is_valid():
            return cast("QuerySet[Any]", filterset.queryset.none())
        return cast("QuerySet[Any]", filterset.qs)

    @property
    def can_export(self) -> bool:
        return bool(self.export_filename) and self.request.user.has_perm(self.export_permission)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        filterset = self.get_filterset()
        rows = self.filtered_rows(filterset)
        table = self.get_table(rows)
        configure_table(request, table, **self.get_paginator_options(rows))
        self.page_loaded(table)
        context = self.get_context_data(
            table=table,
            filter=filterset,
            list_page=self,
            per_page_choices=PER_PAGE_CHOICES,
            export_formats=EXPORT_FORMATS,
        )
        return render(request, self.template_name, context)

    def post(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse | StreamingHttpResponse:
        """The export: the filters and sort of the query string, the format in the body."""
        if not self.export_filename:
            return HttpResponse(status=405, headers={"Allow": "GET"})
        if not request.user.has_perm(self.export_permission):
            raise PermissionDenied
        fmt = request.POST.get(EXPORT_FIELD)
        if fmt not in EXPORT_FORMATS:
            return HttpResponseBadRequest("Choose an export format: csv or xlsx.")
        filterset = self.get_filterset()
        if filterset is not None and not filterset.is_valid():
            # Export nothing rather than rows the filters did not select; show why.
            response = self.get(request, *args, **kwargs)
            response.status_code = 400
            return response
        table = self.get_table(self.filtered_rows(filterset))
        configure_table(request, table, paginate=False)
        audit_record(
            action=AuditEvent.Action.EXPORT,
            target_type=self._export_target_type(),
            summary=f"Exported {self.export_title or self.export_filename} ({fmt})",
            details={
                "format": fmt,
                "filters": self._applied_filters(filterset),
                "sort": [str(key) for key in table.order_by or ()],
            },
        )
        return export_response(
            fmt=fmt,
            filename=self.export_filename,
            columns=table.export_columns(),
            rows=self.export_rows(table),
        )

    def _export_target_type(self) -> str:
        model = getattr(self.table_class._meta, "model", None)
        return model._meta.label if model is not None else ""

    def _applied_filters(self, filterset: django_filters.FilterSet | None) -> dict[str, str]:
        """The filter values as typed, by name (validated: no NUL, no unknown names)."""
        if filterset is None:
            return {}
        names: set[str] = set()
        for name, field in filterset.form.fields.items():
            suffixes = getattr(field.widget, "suffixes", None) or [""]
            names.update(f"{name}_{suffix}" if suffix else name for suffix in suffixes)
        query = self.request.GET
        return {name: query[name] for name in sorted(names) if query.get(name)}


def list_pages() -> dict[str, type[ListPageView]]:
    """Every list page of the URLconf by qualified URL name, found from the views
    themselves, so that a check over all lists (and exports) cannot forget a new one."""
    from django.urls import URLPattern, URLResolver, get_resolver

    found: dict[str, type[ListPageView]] = {}

    def walk(resolver: URLResolver, namespace: str) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = ":".join(filter(None, [namespace, entry.namespace or ""]))
                walk(entry, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                view_class = getattr(entry.callback, "view_class", None)
                if isinstance(view_class, type) and issubclass(view_class, ListPageView):
                    found[f"{namespace}:{entry.name}" if namespace else entry.name] = view_class

    walk(get_resolver(), "")
    return found
