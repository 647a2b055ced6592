"""What an API key may do: the scopes, and each view's declaration of the one it needs.

Every DRF view of the API declares ``api_key_scopes``, a mapping from an action name (a
viewset's ``list``, ``like``...) or an HTTP method (``GET``), or ``"*"`` for the rest, to the
scope a key needs there — or to ``None``: keys are refused there, whatever their scopes.
``NO_API_KEYS`` refuses keys on the whole view (key management, staff and internal
endpoints, chat tokens, sign-in). A request authenticated with a JWT is never affected.

The declarations live here, below every app, so that any view may state its scope without
importing the developer platform; ``developer.permissions.ApiKeyScope`` enforces them and
``tests/developer/test_scope_declarations.py`` fails on a view that declares nothing.
"""

from collections.abc import Mapping

TRACKS_READ = "tracks:read"
TRACKS_WRITE = "tracks:write"
PLAYLISTS_READ = "playlists:read"
PLAYLISTS_WRITE = "playlists:write"
MARKETPLACE_READ = "marketplace:read"
ORDERS_READ = "orders:read"
SELLER_READ = "seller:read"
WEBHOOKS_MANAGE = "webhooks:manage"

SCOPES = (
    TRACKS_READ,
    TRACKS_WRITE,
    PLAYLISTS_READ,
    PLAYLISTS_WRITE,
    MARKETPLACE_READ,
    ORDERS_READ,
    SELLER_READ,
    WEBHOOKS_MANAGE,
)

READ_METHODS = ("GET", "HEAD", "OPTIONS")

# Keys are refused on the whole view.
NO_API_KEYS: Mapping[str, str | None] = {"*": None}


def read_write(read: str | None, write: str | None) -> dict[str, str | None]:
    """``read`` for GET/HEAD/OPTIONS, ``write`` for every other method (None: no keys)."""
    return {**dict.fromkeys(READ_METHODS, read), "*": write}


def read_only(read: str) -> dict[str, str | None]:
    """Keys with ``read`` may read; no key may write."""
    return read_write(read, None)


class Undeclared(LookupError):
    """The view states no scope for this action or method: keys are refused (fail closed)."""


def required_scope(view, method: str) -> str | None:
    """The scope a key needs for ``method`` on ``view`` (None: keys refused there).

    The view's action wins over the method, the method over ``"*"``. Raises ``Undeclared``
    when the view declares nothing that applies.
    """
    declared = getattr(view, "api_key_scopes", None)
    if declared is None:
        raise Undeclared(f"{type(view).__name__} declares no api_key_scopes")
    action = getattr(view, "action", None)
    for key in (action, method.upper(), "*"):
        if key and key in declared:
            return declared[key]
    raise Undeclared(f"{type(view).__name__} declares no scope for {action or method}")
