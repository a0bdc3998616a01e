"""The ASGI application factory for uvicorn (`api.main:build`, factory mode)."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from api.config import from_settings
from bauhof import settings


def build() -> FastAPI:
    """The application for the settings in the environment."""
    return create_app(from_settings(settings.load()))
