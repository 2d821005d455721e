"""``dualthreat serve``: the dashboard, a local web app over the fitted framework (:mod:`dualthreat.web`)."""

from typing import Annotated

import typer

from dualthreat.cli.options import StoreOpt, TheaterOpt, err_console, fail, open_store, progress

app = typer.Typer()

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on. Anything but the loopback "
                                      "(127.0.0.1) makes the dashboard reachable from other machines.")]
    = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.", min=1, max=65535)] = 8000,
    store: StoreOpt = None,
    theater: TheaterOpt = None,
    episodes: Annotated[bool, typer.Option("--episodes/--no-episodes", help="Forecast the decision episodes out "
                                           "of time (in the background, about a minute).")] = True,
) -> None:
    """Serve the dashboard: both allies' threat matrices, what fed each component, posture, the triangle and
    home front, the hypotheses, the episode forecasts and scenarios, with a JSON API (/docs).

    Fits the framework once at start-up (about 20 s on the default dataset) and answers from memory.
    """
    import uvicorn

    from dualthreat.theater import TheaterError
    from dualthreat.web.app import LOCAL_HOSTS, create_app
    from dualthreat.web.bundle import vega_bundle
    from dualthreat.web.service import Dashboard, resolve_theater

    st, store_error = open_store(store)
    try:
        th = resolve_theater(theater)
    except TheaterError as exc:
        fail(str(exc), 2)
    if host not in LOOPBACK:
        err_console.print(f"warning: listening on {host}: the dashboard is reachable from other machines and has "
                          "no login; use --host 127.0.0.1 to keep it local", markup=False, highlight=False)
    import threading

    bundle = threading.Thread(target=vega_bundle, daemon=True)  # built while the model fits
    bundle.start()
    try:
        with progress() as bar:
            task = bar.add_task("fitting the framework", total=None)
            dashboard = Dashboard(st, th, episodes=episodes).load(lambda what: bar.update(task, description=what))
            bar.update(task, description="building the chart bundle")
            bundle.join()
    except store_error as exc:
        fail(str(exc))
    allowed = None if host in LOOPBACK else (["*"] if host in ("0.0.0.0", "::") else [*LOCAL_HOSTS, host])
    shown = f"[{host}]" if ":" in host else host
    err_console.print(f"dualthreat dashboard on http://{shown}:{port}/ (API: /docs); Ctrl-C stops it",
                      markup=False, highlight=False)
    uvicorn.run(create_app(dashboard, allowed_hosts=allowed), host=host, port=port, log_level="warning",
                access_log=False)
