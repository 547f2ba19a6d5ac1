-- posdesk schema, PostgreSQL. Times are Unix milliseconds.

CREATE TABLE conversations (
    chat_id     BIGINT PRIMARY KEY,
    user_id     BIGINT NOT NULL DEFAULT 0,
    lang        TEXT,
    state       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE processed_updates (
    update_id    BIGINT PRIMARY KEY,
    chat_id      BIGINT,
    processed_at BIGINT NOT NULL
);
CREATE INDEX processed_updates_at ON processed_updates (processed_at);

CREATE TABLE turns (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id      BIGINT NOT NULL,
    update_id    BIGINT,
    event        TEXT NOT NULL,
    intent       TEXT,
    input        TEXT,
    state_before TEXT NOT NULL,
    state_after  TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX turns_chat ON turns (chat_id, id);

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id         BIGINT NOT NULL,
    ticket_id       BIGINT,
    payload         TEXT NOT NULL,
    priority        BIGINT NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
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
    updated_at  BIGINT NOT NULL
);

CREATE TABLE otp_state (
    merchant_id  TEXT PRIMARY KEY,
    code_hash    TEXT,
    expires_at   BIGINT,
    failures     BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    last_sent_at BIGINT
);

CREATE TABLE otp_sends (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    user_id     BIGINT NOT NULL,
    sent_at     BIGINT NOT NULL
);
CREATE INDEX otp_sends_merchant ON otp_sends (merchant_id, sent_at);
CREATE INDEX otp_sends_user ON otp_sends (user_id, sent_at);

CREATE TABLE unbind_requests (
    reference   TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    chat_id     BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX unbind_requests_merchant ON unbind_requests (merchant_id, created_at);

CREATE TABLE audit (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    merchant_id TEXT,
    chat_id     BIGINT,
    detail      TEXT NOT NULL DEFAULT ''
);

CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE tickets (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id       BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    user_name     TEXT NOT NULL DEFAULT '',
    merchant_id   TEXT,
    lang          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL,
    assignee_id   BIGINT,
    assignee_name TEXT,
    thread_id     BIGINT,
    opened_at     BIGINT NOT NULL,
    claimed_at    BIGINT,
    closed_at     BIGINT,
    rating        BIGINT,
    comment       TEXT,
    reminded      BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX tickets_one_open ON tickets (chat_id) WHERE status IN ('open', 'claimed');
CREATE INDEX tickets_thread ON tickets (thread_id);

CREATE TABLE ticket_messages (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id       BIGINT NOT NULL REFERENCES tickets (id),
    direction       TEXT NOT NULL,
    author          TEXT NOT NULL DEFAULT '',
    body            TEXT NOT NULL DEFAULT '',
    message_id      BIGINT,
    at              BIGINT NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);

-- Updates received but not yet applied: written before Telegram is told they
-- arrived (next getUpdates offset, or the webhook's 200), deleted once applied.
CREATE TABLE inbox (
    update_id   BIGINT PRIMARY KEY,
    chat_id     BIGINT NOT NULL,
    payload     TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX inbox_chat ON inbox (chat_id, update_id);

-- Short leases on a chat's inbox or outbox work, so that several replicas
-- never apply or send for the same chat at once.
CREATE TABLE leases (
    kind    TEXT NOT NULL,
    chat_id BIGINT NOT NULL,
    owner   TEXT NOT NULL,
    until   BIGINT NOT NULL,
    PRIMARY KEY (kind, chat_id)
);
