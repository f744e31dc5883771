"""InfoCenter KB (信息中心知识库): the core library behind the MkDocs hooks and the ``kb`` command."""

from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.1.0"
