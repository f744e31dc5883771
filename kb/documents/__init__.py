"""Controlled documents (制度/手册/培训): the document-control block, the registers (制度目录,
手册目录) and the training catalog, all read from the content catalog."""
