"""Project-wide request guards that belong to no single app."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse


def reject_nul_bytes(get_response: Callable[[HttpRequest], HttpResponse]):
    """Refuse a NUL byte anywhere in the path or query string with 400.

    PostgreSQL cannot store NUL in text; without this guard a `?q=%00` would reach the
    database driver and fail there as a server error.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        raw = request.META.get("QUERY_STRING", "") + request.path
        if "\x00" in raw or "%00" in raw.lower():
            return JsonResponse(
                {"detail": "NUL bytes are not allowed in URLs.", "code": "nul_byte", "fields": {}},
                status=400,
            )
        return get_response(request)

    return middleware
