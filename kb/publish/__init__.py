"""Publishing: atomic releases and rollback, the publish lock, the security headers of a build."""
