"""The four layers of one region, a package each (`network`, `data`, `compute`, `dns`) holding its stack and the
constructs only it uses; `base` and `protection` serve all four.

`shared` is imported first so the provider bindings load selectively.
"""

import shared  # noqa: F401  (enables the selective provider import before any stack module loads)
