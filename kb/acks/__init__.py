"""阅知确认 (issue 21): staff confirm they have read the current version of a policy; owners
see who has not.

- :mod:`kb.acks.declare`: which documents ask for it (``acknowledge: required``, from the
  content model); :mod:`kb.acks.manifest`: the build's ``SITE/.kb-acks.json`` that ``kb serve``
  reads (no content model there: the service's workers do not load it);
- :mod:`kb.acks.page`: the hidden button block of a page and the 制度发布 notice's sentence;
- :mod:`kb.acks.web`: ``/api/ack`` and ``/api/ack/report`` in ``kb serve`` (identity from the
  proxy only, CSRF, idempotent);
- :mod:`kb.acks.records`: the append-only tables (SQLAlchemy Core; :mod:`kb.store`);
- :mod:`kb.acks.report`, :mod:`kb.acks.cli`: ``kb report --acks`` and the admin page.

The build hook is ``hooks/acks.py``; the page script ``assets/kb-ack.js``; deployment in
``deploy/nginx/kb-acks-server.conf`` and deploy/README.md.
"""
