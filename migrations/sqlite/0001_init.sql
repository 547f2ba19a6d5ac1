-- posdesk schema, SQLite. Times are Unix milliseconds.

CREATE TABLE conversations (
    chat_id     INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL DEFAULT 0,
    lang        TEXT,
    state       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,
    chat_id      INTEGER,
    processed_at INTEGER NOT NULL
);
CREATE INDEX processed_updates_at ON processed_updates (processed_at);

CREATE TABLE turns (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id      INTEGER NOT NULL,
    update_id    INTEGER,
    event        TEXT NOT NULL,
    intent       TEXT,
    input        TEXT,
    state_before TEXT NOT NULL,
    state_after  TEXT NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX turns_chat ON turns (chat_id, id);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id         INTEGER NOT NULL,
    ticket_id       INTEGER,
    payload         TEXT NOT NULL,
    priority        INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox (status, next_attempt_at, priority, id);
CREATE INDEX outbox_chat ON outbox (chat_id, status, id);

CREATE TABLE merchants (
    merchant_id TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    phone       TEXT NOT NULL,
    card_mask   TEXT NOT NULL,
    bank_name   TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE otp_state (
    merchant_id  TEXT PRIMARY KEY,
    code_hash    TEXT,
    expires_at   INTEGER,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    last_sent_at INTEGER
);

CREATE TABLE otp_sends (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL,
    user_id     INTEGER NOT NULL,
    sent_at     INTEGER NOT NULL
);
CREATE INDEX otp_sends_merchant ON otp_sends (merchant_id, sent_at);
CREATE INDEX otp_sends_user ON otp_sends (user_id, sent_at);

CREATE TABLE unbind_requests (
    reference   TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    chat_id     INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX unbind_requests_merchant ON unbind_requests (merchant_id, created_at);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    merchant_id TEXT,
    chat_id     INTEGER,
    detail      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE tickets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id       INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    user_name     TEXT NOT NULL DEFAULT '',
    merchant_id   TEXT,
    lang          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL,
    assignee_id   INTEGER,
    assignee_name TEXT,
    thread_id     INTEGER,
    opened_at     INTEGER NOT NULL,
    claimed_at    INTEGER,
    closed_at     INTEGER,
    rating        INTEGER,
    comment       TEXT,
    reminded      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX tickets_one_open ON tickets (chat_id) WHERE status IN ('open', 'claimed');
CREATE INDEX tickets_thread ON tickets (thread_id);

CREATE TABLE ticket_messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id       INTEGER NOT NULL REFERENCES tickets (id),
    direction       TEXT NOT NULL,
    author          TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL DEFAULT '',
    message_id      INTEGER,
    at              INTEGER NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);

-- Updates received but not yet applied: written before Telegram is told they
-- arrived (next getUpdates offset, or the webhook's 200), deleted once applied.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    payload     TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX inbox_chat ON inbox (chat_id, update_id);

-- Short leases on a chat's inbox or outbox work, so that several replicas
-- never apply or send for the same chat at once.
CREATE TABLE leases (
    kind    TEXT NOT NULL,
    chat_id INTEGER NOT NULL,
    owner   TEXT NOT NULL,
    until   INTEGER NOT NULL,
    PRIMARY KEY (kind, chat_id)
);
