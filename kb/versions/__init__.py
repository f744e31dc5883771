"""Versions of controlled documents: git history (one pass), archived versions, the 修订记录
and comparisons, and version discipline for pull requests (``kb check-versions``)."""
