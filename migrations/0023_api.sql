-- The HTTP API (`/api/v1`) and event subscriptions (signed POSTs to other systems).

-- Keys (`siaga112 apikey`): only a SHA-256 hash of each key is kept. A name is reused only after
-- its key was revoked.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    scope        TEXT    NOT NULL,                  -- models.api.Scope
    key_hash     TEXT    NOT NULL UNIQUE,
    created_at   TEXT    NOT NULL,
    revoked_at   TEXT,
    last_used_at TEXT
);
CREATE UNIQUE INDEX api_keys_active_name ON api_keys (name) WHERE revoked_at IS NULL;

-- The call centre's own ids: one incident per key and id, however often it is sent.
CREATE TABLE api_incidents (
    key_id      INTEGER NOT NULL REFERENCES api_keys (id),
    external_id TEXT    NOT NULL,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (key_id, external_id)
) WITHOUT ROWID;
CREATE INDEX api_incidents_incident ON api_incidents (incident_id);

-- Subscriptions (`siaga112 subscription`): where to POST which events. The secret signs each
-- body, so it is kept as given.
CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY,
    url        TEXT    NOT NULL,
    events     TEXT    NOT NULL,                    -- JSON list of models.api.EventName
    secret     TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    removed_at TEXT
);

-- One event for one subscription: written in the transaction that made the change, sent in
-- order per incident, retried with backoff, parked after a day of failure.
CREATE TABLE subscription_deliveries (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id),
    incident_id     INTEGER NOT NULL,
    event           TEXT    NOT NULL,                -- models.api.EventName
    body            TEXT    NOT NULL,                -- the JSON sent, as it will be signed
    status          TEXT    NOT NULL,                -- models.api.DeliveryStatus
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         TEXT    NOT NULL,
    failing_since   TEXT,                            -- the first failed attempt (parked a day on)
    created_at      TEXT    NOT NULL,
    sent_at         TEXT,
    last_error      TEXT
);
CREATE INDEX subscription_deliveries_pending
    ON subscription_deliveries (subscription_id, incident_id, id) WHERE status = 'pending';
CREATE INDEX subscription_deliveries_recent ON subscription_deliveries (created_at);
