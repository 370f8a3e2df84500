"""V6: autonomous defined-risk options trading for Interactive Brokers."""

__version__ = "0.1.0"
