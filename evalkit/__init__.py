"""A real-media evaluation kit for QC (``make eval``): labelled cases built from the real photos and
real speech in tests/data, run through the real engines, scored per check (precision / recall) and
per verdict. ``tests/integration/test_eval_kit.py`` runs the fast subset in ``make test``."""
