"""Service-account tokens: signed JWTs the apiserver issues (TokenRequest) and verifies."""
