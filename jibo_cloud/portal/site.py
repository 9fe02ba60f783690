"""The ``/portal`` blueprint: every page, its error pages and its response headers.

Each page module has ``add_routes(bp, portal)``; this module builds the blueprint, answers
errors raised under ``/portal`` as small HTML pages (the rest of the server answers AWS JSON,
which a browser should not see), and gives every answer the headers a page holding a
household's data needs (a strict Content-Security-Policy: only this server's own CSS and
script, no frames, forms posting only here; referrers only to this server, so an invite link
never leaks elsewhere; no caching of pages).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from quart import Blueprint, Response, abort, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.portal import home, household, photos, settings, signin, updates, voice
from jibo_cloud.portal.context import Portal, Viewer, same_origin, see_other, tokens_match

HERE = Path(__file__).parent
log = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_MESSAGES = {
    400: "That request was not understood.",
    403: "That was refused. Reload the page and try again.",
    404: "There is nothing here, or it is not yours.",
    405: "That is not something this page does.",
    413: "That file is too large.",
    429: "Too many attempts. Wait a little, then try again.",
    503: "The server cannot reach its storage right now. Try again in a minute.",
}


async def signed_in(portal: Portal) -> Viewer:
    """The viewer of the current request, or the refusal: a redirect to the sign-in page for
    a page, 403 for a form post. Form posts must also carry the session's CSRF token and,
    when the browser says where it posts from, come from this host.

    Called only from route functions (it reads Quart's ``request``).
    """
    tls = portal.is_tls(request.scheme, request.headers)
    viewer = await portal.viewer(request.cookies, tls)
    if request.method in ("GET", "HEAD"):
        if viewer is None:
            target = request.full_path.rstrip("?")
            abort(see_other(f"/portal/signin?next={_quote(target)}"))
        assert viewer is not None
        return viewer
    if viewer is None or not same_origin(request.headers, request.host):
        abort(403)
    form = await request.form
    if not tokens_match(viewer.csrf, form.get("csrf")):
        abort(403)
    return viewer


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def build_blueprint(portal: Portal) -> Blueprint:
    bp = Blueprint(
        "portal", __name__, url_prefix="/portal",
        template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"),
    )  # fmt: skip

    @bp.app_template_filter("portal_time")
    def portal_time(ms: int | None) -> str:
        if not ms:
            return ""
        return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    @bp.errorhandler(HTTPException)
    async def error_page(error: HTTPException) -> Response:
        status = error.code or 500
        body = await render_template(
            "portal/error.html", status=status, viewer=None,
            message=_MESSAGES.get(status, "Something went wrong."),
        )  # fmt: skip
        response = Response(body, status=status, content_type="text/html; charset=utf-8")
        for name, value in error.get_headers():
            if name.lower() in ("allow", "retry-after"):
                response.headers[name] = value
        return response

    @bp.errorhandler(StorageUnavailable)
    async def storage_down(error: StorageUnavailable) -> Response:
        return await error_page(ServiceUnavailable())

    @bp.errorhandler(Exception)
    async def crashed(error: Exception) -> Response:
        log.error("portal request failed", exc_info=error)
        return await error_page(InternalServerError())

    @bp.route("/<path:rest>", methods=["GET", "POST"])
    async def nothing_here(rest: str) -> Response:
        # Unknown portal paths get the portal's HTML 404, not the REST layer's JSON one.
        abort(404)

    @bp.after_request
    async def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint != "portal.static":
            response.headers["Cache-Control"] = "no-store"
        return response

    signin.add_routes(bp, portal)
    for module in (home, household, photos, voice, settings, updates):
        module.add_routes(bp, portal, signed_in)
    return bp
