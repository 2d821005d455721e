"""The dashboard (``dualthreat serve``): a local web app over the fitted framework, with a JSON API.

:mod:`service` fits the framework once and answers from memory; :mod:`app` builds the FastAPI application
(errors, security headers, the served Vega-Lite bundle and API documentation); :mod:`api` is the JSON API,
:mod:`pages` the server-rendered pages, :mod:`charts` the dashboard's own charts.
"""
