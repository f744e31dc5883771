"""Audience-filtered builds (public < internal < confidential): what each build may show."""
