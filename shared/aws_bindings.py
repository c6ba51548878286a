"""Import only the provider bindings a stack uses.

`cdktf_cdktf_provider_aws/__init__.py` imports all of its ~2,100 submodules so
that jsii knows every type up front; that alone costs tens of seconds and
most of a synth's memory. Each submodule only needs the package's `_jsii`
module (which loads the assembly), so registering a bare package object
first lets `from cdktf_cdktf_provider_aws.vpc import Vpc` load `_jsii` and
`vpc` and nothing else.

The same happens on the Node side of jsii: loading the assembly `require`s the
npm package's `lib/index.js`, which requires all of its submodules (about 9 s
of a synth). A copy of the package whose index defines each submodule as a
lazy getter (built once into `.local/jsii/`) is loaded into the kernel first,
under the same name and version, so the bindings' own load is a no-op and the
kernel requires only the submodules whose types the stacks touch.

The synthesized JSON is byte-identical either way
(tests/unit/test_selective_import.py); set PAYMENTS_STOCK_PROVIDER_IMPORT=1
to use the stock import.
"""

from __future__ import annotations

import gzip
import importlib.abc
import importlib.util
import io
import os
import re
import sys
import tarfile
import tempfile
import types
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_aws"
NPM_NAME = "@cdktf/provider-aws"
STOCK_SWITCH = "PAYMENTS_STOCK_PROVIDER_IMPORT"
LAZY_DIR = Path(__file__).resolve().parent.parent / ".local" / "jsii"
INDEX = "package/lib/index.js"
_EAGER_EXPORT = re.compile(r'^exports\.(\w+) = require\("(\./[^"]+)"\);$', re.M)


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
    sys.meta_path.insert(0, _PreloadOnFirstUse(Path(next(iter(spec.submodule_search_locations)))))
    return True


class _PreloadOnFirstUse(importlib.abc.MetaPathFinder):
    """Runs the lazy preload just before the first binding imports `_jsii`, so code that imports `shared`
    without touching a provider type (every `python -m ops` command) never starts the jsii runtime."""

    def __init__(self, package_dir: Path) -> None:
        self.package_dir = package_dir

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        """Never finds anything itself: the normal finders import the module."""
        if name == f"{PACKAGE}._jsii":
            sys.meta_path.remove(self)
            _preload_lazy_assembly(self.package_dir)


def lazy_index(source: str) -> str | None:
    """`exports.x = require("./x");` lines as lazy getters; None when the index has any other require."""
    lazy, count = _EAGER_EXPORT.subn(
        r'Object.defineProperty(exports, "\1", { enumerable: true, configurable: true, get: () => require("\2") });',
        source,
    )
    return lazy if count and count == source.count("require(") else None


def _lazy_tarball(original: Path) -> Path | None:
    stat = original.stat()
    target = LAZY_DIR / f"{original.name.removesuffix('.jsii.tgz')}-{stat.st_size}-{int(stat.st_mtime)}.lazy.tgz"
    if target.exists():
        return target
    with tarfile.open(original, "r:gz") as source:
        index = source.extractfile(INDEX)
        lazy = lazy_index(index.read().decode()) if index else None
        if lazy is None:
            return None
        LAZY_DIR.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.NamedTemporaryFile(dir=LAZY_DIR, suffix=".part", delete=False) as part,
            gzip.GzipFile(fileobj=part, mode="wb", compresslevel=1, mtime=0) as zipped,
            tarfile.open(fileobj=zipped, mode="w") as copy,
        ):
            for member in source:
                if member.name == INDEX:
                    data = lazy.encode()
                    member.size = len(data)
                    copy.addfile(member, io.BytesIO(data))
                else:
                    copy.addfile(member, source.extractfile(member) if member.isfile() else None)
    publish(Path(part.name), target)
    return target


def publish(part: Path, target: Path) -> None:
    """Move a finished copy into place unless another process got there first.

    A hard link never replaces: jsii refuses a tarball whose mtime changes while it extracts it ("was modified
    while it was being extracted"), so a second synth finishing the same copy must not swap the file under the
    first one (concurrent checkov scans did, from a fresh clone). Readers still never see half a tarball.
    """
    try:
        os.link(part, target)
    except FileExistsError:
        pass
    finally:
        part.unlink()


def _preload_lazy_assembly(package_dir: Path) -> None:
    """Load the lazy copy into the jsii kernel before the bindings load the original (then a no-op)."""
    originals = sorted((package_dir / "_jsii").glob("*.jsii.tgz"))
    if len(originals) != 1:
        return
    version = originals[0].name.removesuffix(".jsii.tgz").rpartition("@")[2]
    tarball = _lazy_tarball(originals[0])
    if tarball is None:
        return
    import cdktf._jsii  # noqa: F401  (the provider's dependencies load first, as in its own _jsii)
    import constructs._jsii  # noqa: F401
    from jsii._runtime import kernel

    kernel.load(NPM_NAME, version, str(tarball))
