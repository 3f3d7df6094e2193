"""Server: the Starlette application serving GraphQL, API keys, schema hot-swap and the job worker."""

from xrm.server.app import app_from_environ, create_app, serve
from xrm.server.reload import Reloader, Runtime
from xrm.server.settings import ServerSettings
from xrm.server.tokens import IssuedToken, TokenInfo, issue_token, list_tokens, revoke_token
from xrm.server.users import create_team, create_user, find_business_unit, find_principal, find_team, find_user

__all__ = [
    "IssuedToken",
    "Reloader",
    "Runtime",
    "ServerSettings",
    "TokenInfo",
    "app_from_environ",
    "create_app",
    "create_team",
    "create_user",
    "find_business_unit",
    "find_principal",
    "find_team",
    "find_user",
    "issue_token",
    "list_tokens",
    "revoke_token",
    "serve",
]
