"""The four layers of one region; `shared` is imported first so the provider bindings load selectively."""

import shared  # noqa: F401  (enables the selective provider import before any stack module loads)
