"""PDFs of controlled documents and training handouts, rendered with WeasyPrint.

The pipeline runs after MkDocs has written the site (``on_post_build`` of ``hooks/print.py``, or
``kb pdf``):

1. :mod:`kb.print.targets` decides which PDFs this build has (each manual chapter, each whole
   manual, each policy, each training course) from the content catalog, and where they go;
2. :mod:`kb.print.document` reads the article of each page from the *built* HTML and assembles one
   print document per PDF (cover, 目录, chapters) with our paged-media stylesheet;
3. :mod:`kb.print.render` checks the fonts, renders the documents over all cores and keeps a cache
   keyed by a hash of every input, so an unchanged PDF is copied instead of rendered again.
"""

from __future__ import annotations
