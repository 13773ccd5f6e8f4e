-- The payment archive (issue 14): every payment once it leaves etcd's hot window, kept forever.
-- `body` is the payment's exact JSON text (serializePayment, ledger/payment.ts), as text and not
-- jsonb, which would reorder its keys: a replay served from here is byte-identical. The columns
-- beside it are copies for lookups and history, never rendered.
-- Roles: payments_owner (runs these migrations) owns the table; payments_host (the function
-- hosts) may only SELECT and INSERT: an archived payment is never updated or deleted.
CREATE TABLE payments (
  payer text NOT NULL,
  id text NOT NULL,
  payee text NOT NULL,
  sequence int8 NOT NULL,
  committed_at timestamptz NOT NULL,
  hlc text COLLATE "C",
  host text NOT NULL,
  body text NOT NULL,
  archived_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (payer, id),
  CONSTRAINT payments_sequence_unique UNIQUE (sequence),
  CONSTRAINT payments_payer_is_not_payee CHECK (payer <> payee)
);

-- History of an account (ledger.ts HistoryQuery): as payer and as payee, each in sequence order.
CREATE INDEX payments_payer_sequence ON payments (payer, sequence);
CREATE INDEX payments_payee_sequence ON payments (payee, sequence);
-- GET /payments/:id without a payer.
CREATE INDEX payments_id_sequence ON payments (id, sequence);

REVOKE ALL ON payments FROM PUBLIC;
GRANT SELECT, INSERT ON payments TO payments_host;
