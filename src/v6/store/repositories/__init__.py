"""Repositories: typed reads and writes of each entity over the store's tables."""
