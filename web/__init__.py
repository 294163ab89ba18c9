"""The web pages people use: server-rendered HTML beside the JSON API, on the same services."""
