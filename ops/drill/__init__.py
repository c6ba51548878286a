"""`make drill`: lose a region on purpose, on a private local deployment, and measure how the platform copes."""
