-- Gateway: accounts, sessions and API keys. Needs the persistence schema (table users) applied first.

-- User ids are allocated here, at registration; the engine learns a user from its first command.
CREATE SEQUENCE gateway_user_id_seq START 1 MINVALUE 1;

CREATE TABLE gateway_accounts (
  user_id       bigint PRIMARY KEY DEFAULT nextval('gateway_user_id_seq') CHECK (user_id > 0),
  -- Stored lower-case: "Alice" and "alice" are one account.
  username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9_.-]{3,32}$'),
  -- scrypt$N$r$p$salt$hash (base64url), salt per user.
  password_hash text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
ALTER SEQUENCE gateway_user_id_seq OWNED BY gateway_accounts.user_id;

-- Session tokens are stored as their SHA-256: a copy of this table does not log anyone in.
CREATE TABLE gateway_sessions (
  token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  user_id    bigint NOT NULL REFERENCES gateway_accounts,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX gateway_sessions_user ON gateway_sessions (user_id);

-- API keys: HMAC verification needs the secret itself, so it is stored encrypted (AES-256-GCM with the gateway's
-- server key: iv || tag || ciphertext), never in clear and never returned after creation.
CREATE TABLE gateway_api_keys (
  key_id     text PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES gateway_accounts,
  label      text NOT NULL,
  scopes     text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'trade', 'withdraw'] AND cardinality(scopes) >= 1),
  secret_enc bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX gateway_api_keys_user ON gateway_api_keys (user_id) WHERE revoked_at IS NULL;

-- The persistence consumer inserts a user's `users` row (by COPY) on the user's first balance movement, after
-- registration; a row inserted here first would make that COPY fail. So registration fills the profile through
-- this trigger when the row appears (and updates it directly if it already exists).
CREATE FUNCTION gateway_fill_user_profile() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT a.username, a.created_at INTO NEW.display_name, NEW.registered_at
  FROM gateway_accounts a WHERE a.user_id = NEW.user_id;
  RETURN NEW;
END $$;
CREATE TRIGGER gateway_fill_user_profile BEFORE INSERT ON users
  FOR EACH ROW WHEN (NEW.registered_at IS NULL) EXECUTE FUNCTION gateway_fill_user_profile();
