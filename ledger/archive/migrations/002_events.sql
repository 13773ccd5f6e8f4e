-- The cluster event log (coordination/events/pg-event-store.ts), append-only: hosts INSERT and
-- SELECT events, never UPDATE or DELETE them. HLC columns use the "C" collation, so that SQL
-- orders them byte by byte, as the hosts compare them (coordination/clock/hlc.ts).
CREATE TABLE cluster_events (
  host text NOT NULL,
  hlc text COLLATE "C" NOT NULL,
  seq int8 NOT NULL,
  body text NOT NULL,
  stored_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (host, hlc, seq)
);

-- Each host's shipping mark: one row per host, moved forward with every batch (the only table a
-- host may UPDATE, and only these two columns).
CREATE TABLE cluster_event_marks (
  host text PRIMARY KEY,
  hlc text COLLATE "C" NOT NULL,
  body text NOT NULL
);

-- Retention without deleting: trimBefore appends a floor, and reads ignore what lies below the
-- highest one. Removing those rows for good is an operator's job, as payments_owner.
CREATE TABLE cluster_event_floors (
  before_hlc text COLLATE "C" NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cluster_event_floors_hlc ON cluster_event_floors (before_hlc);

REVOKE ALL ON cluster_events, cluster_event_marks, cluster_event_floors FROM PUBLIC;
GRANT SELECT, INSERT ON cluster_events, cluster_event_floors TO payments_host;
GRANT SELECT, INSERT ON cluster_event_marks TO payments_host;
GRANT UPDATE (hlc, body) ON cluster_event_marks TO payments_host;
