"""Sub-commands of ``kb``; each module exposes ``add_parser(subparsers)``."""
