"""The core's HTML pages: thin handlers over the same services as the API."""
