"""osops: the shared operations toolkit for OpenStack operators."""

# Kept a literal: `osops check run` imports this package on every check, and
# reading the version from distribution metadata would cost ~60 ms there.
__version__ = "0.1.0"
