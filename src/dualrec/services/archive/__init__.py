"""The archive: catalogue, catalogue records, retention, deletion approvals, push to the archive system."""
