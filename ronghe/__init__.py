"""Ronghe: one trustworthy warehouse from a retailer's ERP, POS, WMS and e-commerce systems."""

__version__ = "0.1.0"
