"""Data-protection requests: export everything held about a person, or erase them (UK GDPR)."""
