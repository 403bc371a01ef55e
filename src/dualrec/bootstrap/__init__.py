"""Composition root: builds the application Container and the engines from Settings.

The only place that picks concrete adapters (which database, which store, which queue, which ASR).
"""
