"""The adapter between the search engine and MkDocs: the background indexer of a cold build,
Material's fallback search index and the results page's help (popular searches, helpdesk). The
rest of ``search`` knows nothing of MkDocs."""
