"""The fake Ocerra: `model.OcerraModel` holds state and rules, `routes.create_app` the HTTP."""
from .model import OcerraModel
from .routes import create_app

__all__ = ["OcerraModel", "create_app"]
