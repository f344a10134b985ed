-- The ledger's account kinds as CHECK constraints instead of foreign keys to ledger_account_kinds: a foreign key
-- costs a lookup in the kinds table per kind column per inserted row (three per transfer, with its trigger), a
-- CHECK a comparison. The kinds are a fixed list (persistence/ledger.ts, docs/persistence.md); the kinds table stays
-- as the list's description, which the ledger_entry_sums view joins.
ALTER TABLE ledger_entries
  DROP CONSTRAINT ledger_entries_debit_kind_fkey,
  DROP CONSTRAINT ledger_entries_credit_kind_fkey,
  ADD CONSTRAINT ledger_entries_debit_kind_check CHECK (debit_kind BETWEEN 1 AND 5),
  ADD CONSTRAINT ledger_entries_credit_kind_check CHECK (credit_kind BETWEEN 1 AND 5);
ALTER TABLE ledger_balances
  DROP CONSTRAINT ledger_balances_kind_fkey,
  ADD CONSTRAINT ledger_balances_kind_check CHECK (kind BETWEEN 1 AND 5);
