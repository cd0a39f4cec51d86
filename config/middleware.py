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


# Session keys the timeout guard keeps (epoch seconds).
SESSION_STARTED = "_started_at"
SESSION_SEEN = "_seen_at"
# Refresh "last seen" at most this often: an idle timeout measured in hours does not
# need a session write on every request.
SEEN_RESOLUTION_SECONDS = 60


def stamp_session_start(sender, request, user, **kwargs) -> None:
    """On sign-in (connected to `user_logged_in`): the clocks of `session_timeouts` start
    here, in the same session write as the sign-in itself."""
    import time

    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED] = request.session[SESSION_SEEN] = time.time()


def session_timeouts(get_response: Callable[[HttpRequest], HttpResponse]):
    """Sign a browser session out after SESSION_IDLE_SECONDS without a request, and
    SESSION_MAX_SECONDS after sign-in whatever happens (API tokens are not sessions).

    The next request then meets the sign-in page like any anonymous one; the reason is
    logged for the audit trail."""
    import logging
    import time

    from django.conf import settings
    from django.contrib.auth import logout

    logger = logging.getLogger("config.security")

    def middleware(request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            started = request.session.get(SESSION_STARTED)
            seen = request.session.get(SESSION_SEEN, started)
            if started is None:
                request.session[SESSION_STARTED] = request.session[SESSION_SEEN] = now
            elif now - started > settings.SESSION_MAX_SECONDS:
                logger.info("Session of %s ended: older than SESSION_MAX_SECONDS", user)
                logout(request)
            elif now - seen > settings.SESSION_IDLE_SECONDS:
                logger.info("Session of %s ended: idle longer than SESSION_IDLE_SECONDS", user)
                logout(request)
            elif now - seen > SEEN_RESOLUTION_SECONDS:
                request.session[SESSION_SEEN] = now
        return get_response(request)

    return middleware
