-- Two-factor authentication, session details for listing and revoking them, and per-key IP allow-lists.

-- TOTP (RFC 6238). The secret is needed to check a code, so it is stored encrypted (AES-256-GCM under the
-- gateway's server key, like API-key secrets); totp_pending_enc is an enrolment not yet confirmed with a code.
-- totp_last_step is the newest time step accepted: a code is accepted once (step > totp_last_step).
ALTER TABLE gateway_accounts
  ADD COLUMN totp_secret_enc  bytea,
  ADD COLUMN totp_pending_enc bytea,
  ADD COLUMN totp_enabled_at  timestamptz,
  ADD COLUMN totp_last_step   bigint NOT NULL DEFAULT 0,
  ADD CONSTRAINT gateway_accounts_totp CHECK ((totp_secret_enc IS NULL) = (totp_enabled_at IS NULL));

-- One-time recovery codes: only their HMAC-SHA256 under the server key is stored.
CREATE TABLE gateway_recovery_codes (
  user_id    bigint NOT NULL REFERENCES gateway_accounts,
  code_hash  bytea NOT NULL CHECK (length(code_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at    timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

-- Sessions get a public id (to list and revoke them without their token) and where they were opened.
ALTER TABLE gateway_sessions ADD COLUMN session_id text, ADD COLUMN ip text, ADD COLUMN user_agent text;
UPDATE gateway_sessions SET session_id = 'ss_' || substr(encode(sha256(token_hash || '\x01'::bytea), 'hex'), 1, 24) WHERE session_id IS NULL;
ALTER TABLE gateway_sessions ALTER COLUMN session_id SET NOT NULL;
CREATE UNIQUE INDEX gateway_sessions_session_id ON gateway_sessions (session_id);

-- Addresses (IPv4/IPv6, or CIDR blocks) a key accepts requests from; NULL: any.
ALTER TABLE gateway_api_keys ADD COLUMN ip_allow text[] CHECK (ip_allow IS NULL OR cardinality(ip_allow) BETWEEN 1 AND 16);
