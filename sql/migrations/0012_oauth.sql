-- OAuth 2 tokens of outside services (package sync/oauth), one row per
-- provider ('rms', 'clickup'). Access and refresh tokens are sealed with
-- AES-256-GCM under ROUTERLOGGER_SECRET_KEY before they reach this table;
-- key_id names the key that sealed them, so a key can be rotated by
-- configuring the new key first and the old one after it until every row
-- has been written again. A NULL refresh_token means the provider issues
-- none (ClickUp); a NULL expires_at means the access token does not expire.
-- generation grows by one each time a new token is stored, so a writer can
-- tell whether the row changed under it.
CREATE TABLE oauth_tokens (
    provider      text PRIMARY KEY CHECK (provider <> ''),
    key_id        text NOT NULL,
    access_token  bytea NOT NULL,
    refresh_token bytea,
    token_type    text NOT NULL DEFAULT '',
    scope         text NOT NULL DEFAULT '',
    expires_at    timestamptz,
    state         text NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'needs_reauth')),
    last_error    text,
    generation    bigint NOT NULL DEFAULT 1 CHECK (generation > 0),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Authorisation-code flows in progress: the PKCE verifier of each, sealed
-- like the tokens, keyed by the SHA-256 of the state parameter (the state
-- itself travels only in the browser's redirect). A row is used once: the
-- callback deletes it. Rows past expires_at are refused and cleaned up.
CREATE TABLE oauth_pkce (
    state_hash bytea PRIMARY KEY,
    provider   text NOT NULL CHECK (provider <> ''),
    key_id     text NOT NULL,
    verifier   bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    CHECK (expires_at > created_at)
);

CREATE INDEX oauth_pkce_expires_at ON oauth_pkce (expires_at);

-- oauth_state is the health of each provider's authorisation for SQL and
-- Grafana, without secrets. The alert "OAuth needs re-authorisation" fires
-- on state = 'needs_reauth'.
CREATE VIEW oauth_state AS
SELECT provider, state, expires_at, updated_at, last_error
FROM oauth_tokens;

GRANT SELECT ON oauth_state TO routerlogger_reader;
