"""An API token for a test user, as the token endpoint would hand it out."""

from districts.tokens import api_token_issue


def token_for(user) -> str:
    return api_token_issue(user=user)[1]


def token_header(user) -> dict:
    return {"Authorization": f"Token {token_for(user)}"}
