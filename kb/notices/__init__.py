"""Notices (通知公告): which exist and are published, their pages and archive, feeds, and the
generated 制度发布 notices. "Notice" is the one name of this concept in code; the content type
keeps its front-matter name ``announcement`` (writers already use it)."""
