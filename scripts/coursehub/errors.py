"""The one error type the CLI turns into a single clear line."""


class CoursehubError(Exception):
    """A user-facing failure: bad input, missing prerequisite, refused action."""
