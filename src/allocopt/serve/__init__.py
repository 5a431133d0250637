"""The negotiation room: ``allocopt serve``, a local what-if page on one live :class:`~allocopt.session.Session`.

    room.py   the live partnership behind the page (one session, one solve at a time, what the last change moved)
    views.py  what the page shows, as plain rows of text (the templates only lay it out)
    app.py    the Starlette application: routes, the safety checks, errors as 4xx messages
    templates/, static/  the page (Jinja2, autoescaped) and its one script and style sheet (no build step)

Only :mod:`allocopt.serve.room` and :mod:`allocopt.serve.views` are imported without the ``[serve]`` extra;
:func:`require_extra` says which extra to install before anything else is done.
"""

from __future__ import annotations

import importlib.util
import socket

from allocopt.errors import MissingExtraError, OptionsError

SERVE_MODULES = ("starlette", "uvicorn", "jinja2")


def require_extra() -> None:
    """Raise a :class:`MissingExtraError` naming the ``[serve]`` extra unless its packages are installed."""
    missing = [m for m in SERVE_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtraError(f"the what-if page needs {', '.join(missing)}: pip install \"allocopt[serve]\" "
                                '(or pip install -e ".[serve]" in a checkout)')


def check_address(host: str, port: int) -> None:
    """Raise an :class:`OptionsError` unless the page could listen at ``host``:``port`` now (checked before the
    first solve, so a port in use is said at once)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as err:
        raise OptionsError(f"cannot listen at {host} port {port}: {err.strerror or err} (choose another --port, or "
                           "--host)") from None
