"""banditkit: a Thompson-sampling traffic allocator for A/B tests."""

__version__ = "0.1.0"
