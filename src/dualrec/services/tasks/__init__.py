"""Recording tasks for business systems: lifecycle, documents to sign, result webhooks, QC result → task."""
