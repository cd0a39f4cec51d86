"""Pagination of API lists (kept apart from `strategy.api.base`; see `parsers`)."""

from rest_framework.pagination import CursorPagination, PageNumberPagination


class PagePagination(PageNumberPagination):
    """`?page=N&page_size=M` — 50 by default, at most 500."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class StableCursorPagination(CursorPagination):
    """Cursor pagination for the long, growing lists (notes, indicator periods): pages stay
    stable while rows are added, and a deep page costs the same as the first."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
