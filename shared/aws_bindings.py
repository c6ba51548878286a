"""Import only the provider bindings a stack uses.

`cdktf_cdktf_provider_aws/__init__.py` imports all of its ~2,100 submodules so
that jsii knows every type up front; that alone costs tens of seconds and
most of a synth's memory. Each submodule only needs the package's `_jsii`
module (which loads the assembly), so registering a bare package object
first lets `from cdktf_cdktf_provider_aws.vpc import Vpc` load `_jsii` and
`vpc` and nothing else. The synthesized JSON is byte-identical either way
(tests/unit/test_selective_import.py); set PAYMENTS_STOCK_PROVIDER_IMPORT=1
to use the stock import.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types

PACKAGE = "cdktf_cdktf_provider_aws"
STOCK_SWITCH = "PAYMENTS_STOCK_PROVIDER_IMPORT"


def enable_selective_import() -> bool:
    """Register a bare package object; returns False when the stock import is in force."""
    if os.environ.get(STOCK_SWITCH) == "1" or PACKAGE in sys.modules:
        return False
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"{PACKAGE} is not installed; run `make install`")
    package = types.ModuleType(PACKAGE, "Selectively imported AWS provider bindings")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    package.__package__ = PACKAGE
    sys.modules[PACKAGE] = package
    return True
