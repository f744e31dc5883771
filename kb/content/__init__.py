"""Content: the front-matter model, the per-build catalog, content roots, site-wide rules,
sanitising of what writers type, and the page slots hooks fill (features build on this)."""
