"""The fake Ocerra: `model.OcerraModel` holds state and rules, `routes.create_app` the HTTP."""
from .model import OcerraModel

__all__ = ["OcerraModel"]
