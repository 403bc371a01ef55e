"""Recordings submitted for QC: uploads (console, agent), the QC job and its PDF report."""
