"""The evidence ledger, its checkpoint signing key, evidence packages and their offline verification."""
