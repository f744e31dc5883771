""""本页有帮助吗？": readers' yes/no and an optional comment about a page.

* :mod:`kb.feedback.store` — the SQLite file beside the search log (``<site>-feedback.sqlite3``)
  and the per-owner report (``kb report --feedback``);
* :mod:`kb.feedback.api` — ``GET``/``POST /api/feedback`` of ``kb serve`` (a token for the
  widget; a vote: same-origin, CSRF token, rate-limited, no identity unless a trusted proxy
  header names the reader);
* ``hooks/feedback.py`` — the widget's placeholder on every page (hidden until the service
  answers, so a static deployment never shows it) and ``assets/javascripts/kb-feedback.js``.
"""
