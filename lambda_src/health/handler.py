"""Lambda entry point of the health check (handler ``handler.handler``, API Gateway GET /health).

The directory is zipped on its own, so Lambda imports this file as the top-level module ``handler``.
The other modules use relative imports; in that layout this file registers its own directory as the
package ``health`` first. Imported as ``<something>.health.handler`` the enclosing package is used.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

_PACKAGE = "health"


def _load_app() -> ModuleType:
    if __package__:
        return importlib.import_module(f"{__package__}.app")
    directory = os.path.dirname(os.path.abspath(__file__))
    package = sys.modules.get(_PACKAGE)
    if package is None or list(getattr(package, "__path__", [])) != [directory]:
        spec = importlib.util.spec_from_file_location(
            _PACKAGE, os.path.join(directory, "__init__.py"), submodule_search_locations=[directory]
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {_PACKAGE} from {directory}")
        package = importlib.util.module_from_spec(spec)
        sys.modules[_PACKAGE] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{_PACKAGE}.app")


_app = _load_app()


def handler(event: Any, context: Any) -> dict[str, Any]:
    """API Gateway (REST, payload v1) proxy integration for GET /health."""
    return _app.handle_health(event, context)


def reset_runtime() -> None:
    """Forget cached boto3 clients (the next invocation re-reads the environment)."""
    _app.reset_runtime()
