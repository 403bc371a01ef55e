"""Question banks, draw rules and script templates, and their Excel workbooks."""
