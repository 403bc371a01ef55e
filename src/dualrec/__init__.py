"""dualrec — self-hostable intelligent dual-recording platform (智能双录系统)."""

__all__ = ["__version__"]
__version__ = "0.1.0"
