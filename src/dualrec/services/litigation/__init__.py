"""The litigation report (data and signed PDF) and the auditor's operation/litigation logs."""
