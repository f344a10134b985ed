-- The audit log: every security-relevant action, append-only, each row chained to the one before by SHA-256
-- (audit/log.ts computes the hashes; `npm run audit:verify` recomputes them).
--   hash = SHA-256(prev_hash || canonical JSON of [seq, at, actor_type, actor_id, user_id, action, detail, ip])
-- seq is gap-free (assigned under a lock, not by a sequence), so a deleted row leaves a visible gap.

CREATE TABLE audit_log (
  seq        bigint PRIMARY KEY CHECK (seq >= 1),
  at         timestamptz NOT NULL,
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'operator', 'system', 'anonymous')),
  actor_id   text,
  -- the user the action is about (their own reads: GET /v1/audit)
  user_id    bigint,
  action     text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
  -- JSON text, hashed exactly as stored
  detail     text NOT NULL,
  ip         text,
  prev_hash  bytea NOT NULL CHECK (length(prev_hash) = 32),
  hash       bytea NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_log_user ON audit_log (user_id, seq) WHERE user_id IS NOT NULL;

-- Nobody changes or removes a row, the table's owner included (a superuser can disable triggers: the hash chain
-- is what detects that).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The role every append runs as (SET LOCAL ROLE in audit/log.ts): it may read and insert, nothing else. Roles are
-- shared by every database of the server, so another database may have created it already (even concurrently).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'exchange_audit_writer') THEN
    CREATE ROLE exchange_audit_writer NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
REVOKE ALL ON audit_log FROM PUBLIC;
GRANT SELECT, INSERT ON audit_log TO exchange_audit_writer;
