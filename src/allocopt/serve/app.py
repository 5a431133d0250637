"""The what-if page as a Starlette application on one :class:`~allocopt.serve.room.Room`.

Routes (no route takes a file name or a path from the browser):

==========================  ===================================================================================
``GET /``                   the page
``POST /api/edit``          ``{"path": ..., "value": ...}``: change one field, re-solve; the new view as HTML
``POST /api/objective``     ``{"objective": "nash"}``: solve under another objective
``POST /api/reset``         back to the partnership as read
``POST /api/coalitions``    every coalition's value and the Shapley split
``POST /api/stop``          stop what runs (a solve keeps its best plan so far)
``POST /api/save``          save the partnership on screen as a new file in the ``--save-dir`` directory
``GET /api/progress``       what runs now, and the version of the plan shown
``GET /api/view``           the plan as it stands (a tab whose version is behind fetches it)
``GET /download/...``       ``result.zip``, ``meeting.html``, ``result.xlsx``, ``instance.yaml`` of what is on screen
==========================  ===================================================================================

Safe by default: the host header must name this server (no DNS rebinding), a POST must be JSON from this page's own
origin (no cross-site form), every text is escaped by the templates, and a bad request gets a 4xx status with the
message (never a traceback page).
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from allocopt.errors import AllocoptError, InputError, MissingExtraError, OptionsError, SolverError
from allocopt.serve.room import Room, StoppedError, file_stem
from allocopt.serve.views import coalition_tables, live_context, page_context

HERE = Path(__file__).resolve().parent
MAX_BODY = 64 * 1024
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
STATIC = {"serve.js": "text/javascript; charset=utf-8", "serve.css": "text/css; charset=utf-8"}
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def templates() -> jinja2.Environment:
    """The page's templates, every text escaped."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _status_of(err: Exception) -> int:
    if isinstance(err, StoppedError):
        return 409
    if isinstance(err, MissingExtraError):
        return 501
    if isinstance(err, (InputError, OptionsError)):
        return 400
    return 500


def error_response(err: Exception) -> Response:
    """A library error as a message with a status; anything else as an internal error, its traceback on the
    server's stderr only."""
    if isinstance(err, HTTPException):
        return JSONResponse({"error": str(err.detail)}, status_code=err.status_code)
    if isinstance(err, AllocoptError):
        status = _status_of(err)
        head = "error" if not isinstance(err, SolverError) else "solver error"
        return JSONResponse({"error": f"{head}: {err}"}, status_code=status)
    traceback.print_exc(file=sys.stderr)
    return JSONResponse({"error": "internal error: this is a bug in allocopt; the traceback is on the server's "
                                  "console"}, status_code=500)


async def _body(request: Request, *fields: str) -> dict[str, str]:
    """The request's JSON object with these text fields (a 4xx otherwise)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(415, "send the request as JSON (Content-Type: application/json)")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise HTTPException(413, f"the request is larger than {MAX_BODY} bytes")
    try:
        data = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "the request is not valid JSON") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "send a JSON object")
    for name in fields:
        if not isinstance(data.get(name), str):
            raise HTTPException(400, f"give '{name}' as a text")
    return {name: data[name] for name in fields}


class WhatIfApp:
    """The routes, on one room."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.env = templates()

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(name).render(**context)

    def live(self, message: str = "") -> JSONResponse:
        """The parts of the page a change moves, rendered, with a message for the status line."""
        context = live_context(self.room)
        return JSONResponse({"html": self.render("live.html", context), "version": self.room.version,
                             "message": message, "objective": context["status"]["objective_value"]})

    def changed(self, action: Callable[..., Any], *args: Any) -> JSONResponse:
        """Make a change and render its view, both under the room's lock (no other change comes between)."""
        with self.room.lock:
            change = action(*args)
            return self.live(f"{change.what} ({change.how}, {change.seconds:.2f} s)")

    async def page(self, request: Request) -> Response:
        """The whole page, rendered while no change is half made (it waits for a solve under way)."""
        html = await _threaded(_locked, self.room, lambda: self.render("page.html", page_context(self.room)))
        return HTMLResponse(html)

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            raise HTTPException(404, "no such file")
        return Response((HERE / "static" / name).read_bytes(), media_type=STATIC[name])

    async def edit(self, request: Request) -> Response:
        body = await _body(request, "path", "value")
        return await _threaded(self.changed, self.room.edit, body["path"], body["value"])

    async def objective(self, request: Request) -> Response:
        body = await _body(request, "objective")
        return await _threaded(self.changed, self.room.objective, body["objective"])

    async def reset(self, request: Request) -> Response:
        await _body(request)
        return await _threaded(self.changed, self.room.reset)

    async def coalitions(self, request: Request) -> Response:
        await _body(request)
        game = await _threaded(self.room.compute_coalitions)
        html = self.render("coalitions.html", {"coalitions": coalition_tables(self.room)})
        return JSONResponse({"html": html, "message": f"{game.solves} coalitions solved"})

    async def stop(self, request: Request) -> Response:
        await _body(request)
        stopped = self.room.stop()
        return JSONResponse({"message": "stopping: the best plan found so far will be shown" if stopped else
                             "nothing runs"})

    async def save(self, request: Request) -> Response:
        await _body(request)
        target = await _threaded(self.room.save)
        return JSONResponse({"message": f"saved as {target.name} in the save directory", "name": target.name})

    async def progress(self, request: Request) -> Response:
        return JSONResponse(self.room.progress())

    async def view(self, request: Request) -> Response:
        """The plan as it stands (another tab may have changed it)."""
        return await _threaded(_locked, self.room, self.live)

    async def download(self, request: Request) -> Response:
        what = request.path_params["name"]
        stem = file_stem(self.room.session.instance.name)
        makers: dict[str, tuple[Callable[[], str | bytes], str, str]] = {
            "result.zip": (self.room.result_zip, "application/zip", f"{stem}-result.zip"),
            "meeting.html": (self.room.meeting_page, "text/html; charset=utf-8", f"{stem}-meeting.html"),
            "result.xlsx": (self.room.workbook,
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{stem}-result.xlsx"),
            "instance.yaml": (self.room.instance_text, "application/yaml; charset=utf-8",
                              self.room.instance_file_name()),
        }
        if what not in makers:
            raise HTTPException(404, "no such download")
        make, media, filename = makers[what]
        content = await _threaded(_locked, self.room, make)
        return Response(content, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _locked(room: Room, make: Callable[[], Any]) -> Any:
    with room.lock:
        return make()


async def _threaded(func: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking call (a solve waits for the room's lock, then for HiGHS) off the event loop."""
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func, *args)


def allowed_hosts(host: str, extra: Sequence[str] = ()) -> list[str]:
    """The host names the server answers to: loopback, or (bound elsewhere on purpose) any."""
    if host in LOOPBACK:
        return [*LOOPBACK, *extra]
    return ["*"]


def create_app(room: Room, *, host: str = "127.0.0.1", extra_hosts: Sequence[str] = ()) -> Starlette:
    """The application serving ``room``; ``host`` is the address it is bound to (``extra_hosts``: further names
    it may be reached by, e.g. a test client's)."""
    views = WhatIfApp(room)
    hosts = allowed_hosts(host, extra_hosts)
    routes = [Route("/", views.page), Route("/static/{name}", views.static),
              Route("/api/edit", views.edit, methods=["POST"]),
              Route("/api/objective", views.objective, methods=["POST"]),
              Route("/api/reset", views.reset, methods=["POST"]),
              Route("/api/coalitions", views.coalitions, methods=["POST"]),
              Route("/api/stop", views.stop, methods=["POST"]), Route("/api/save", views.save, methods=["POST"]),
              Route("/api/progress", views.progress), Route("/api/view", views.view),
              Route("/download/{name}", views.download)]

    async def handle(request: Request, exc: Exception) -> Response:
        return error_response(exc)

    async def guard(request: Request, call_next: Any) -> Response:
        origin = request.headers.get("origin")
        if request.method != "GET" and origin is not None and hosts != ["*"] and \
                urlsplit(origin).hostname not in [h.strip("[]") for h in hosts]:
            return PlainTextResponse("refused: a request from another site", status_code=403)
        response: Response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
                  Middleware(BaseHTTPMiddleware, dispatch=guard)]
    handlers: dict[Any, Any] = {AllocoptError: handle, HTTPException: handle, Exception: handle}
    return Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)


def serve(room: Room, *, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the page until Ctrl-C, which first stops what runs (so a long solve's page gets its answer and the
    server ends cleanly)."""
    import uvicorn

    class StoppingServer(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            room.stop()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(create_app(room, host=host), host=host, port=port, log_level="warning",
                            timeout_graceful_shutdown=15)
    StoppingServer(config).run()
