"""DL Grader web service: create_app(settings) -> FastAPI."""
