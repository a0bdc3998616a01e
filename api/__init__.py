"""The HTTP API: FastAPI app, crew web app and Open311 GeoReport v2."""
