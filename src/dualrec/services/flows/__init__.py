"""Recording flows (drafts, versions, publishing), routing rules, the sensitive-word list, demo content."""
