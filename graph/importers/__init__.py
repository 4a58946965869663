"""Knowledge-graph importers: the JSON Lines format and WordNet 3.0."""
