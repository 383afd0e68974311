"""Market-data feeds (the Tradier response normaliser so far; the feeds come with it)."""
