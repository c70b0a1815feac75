"""Start the admin app: ``python -m bot.admin [--host 127.0.0.1] [--port 8000]``.

Uses Werkzeug's threaded server, which is enough for a handful of leaders and
HR staff on an intranet; behind a reverse proxy with TLS set
``MANDAT_ADMIN_SECURE_COOKIES=1``. The database must be migrated
(``mandat db upgrade``); users are created with ``mandat users add`` or
``mandat users demo``.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading


def _warm_up() -> None:
    """Import the heavy libraries in the background, so the first page is quick."""
    try:
        import sklearn.feature_extraction.text  # noqa: F401
        from matplotlib.backends import backend_agg  # noqa: F401
    except Exception:  # pragma: no cover - warm-up is best effort
        pass


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, check the database, serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m bot.admin", description="Mandatbot admin-app")
    parser.add_argument("--host", default=os.environ.get("MANDAT_ADMIN_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("MANDAT_ADMIN_PORT", "8000")))
    args = parser.parse_args(argv)

    from sqlalchemy import inspect

    from bot.admin import create_app
    from bot.db.session import get_engine

    app = create_app()
    if "users" not in inspect(get_engine(app.config["DATABASE_URL"])).get_table_names():
        print("Databasen mangler admin-tabellerne: kør `mandat db upgrade` (og `mandat users demo`).",
              file=sys.stderr)
        return 1
    threading.Thread(target=_warm_up, daemon=True).start()
    from werkzeug.serving import run_simple

    print(f"Mandatbot admin: http://{args.host}:{args.port}/ (Ctrl-C stopper)", flush=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False, use_debugger=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
