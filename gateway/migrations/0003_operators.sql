-- Operator accounts: the people who run the venue (gateway/auth/operators.ts), separate from users. Created,
-- disabled and reset only from the command line (`npm run admin`), never by a route. TOTP is required: the secret
-- is set at creation (stored encrypted like users' secrets) and every login needs a code from it.
CREATE TABLE gateway_operators (
  operator_id     bigserial PRIMARY KEY,
  name            text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9_.-]{3,32}$'),
  role            text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  password_hash   text NOT NULL,
  totp_secret_enc bytea NOT NULL,
  -- The newest time step accepted: a code is accepted once.
  totp_last_step  bigint NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  disabled_at     timestamptz
);

-- Operator sessions, stored as the SHA-256 of their token (like users'); a disabled operator's are revoked.
CREATE TABLE gateway_operator_sessions (
  token_hash  bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  operator_id bigint NOT NULL REFERENCES gateway_operators,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  ip          text
);
CREATE INDEX gateway_operator_sessions_operator ON gateway_operator_sessions (operator_id) WHERE revoked_at IS NULL;
