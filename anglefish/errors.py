"""The one exception type anglefish raises for bad input or unsupported requests.

Every message is a single line: the command-line front door prints it and exits
with status 2, so it must be readable on its own.
"""


class AnglefishError(ValueError):
    """Bad input (unknown architecture, depth < 0, angle outside [0, pi], ...) or a
    request the toolkit cannot honour (e.g. a kernel map that has no closed form)."""

    def __init__(self, message: str):
        message = " ".join(str(message).split())  # keep it on one line
        super().__init__(message)
