"""The adapter between the search engine and MkDocs: the background indexer of a cold build and
Material's fallback search index. The rest of ``search`` knows nothing of MkDocs."""
