-- SQLite serves one process: it reads a chat's stored updates from the
-- inbox only for chats left over from before a restart, so the inbox keeps
-- no index by chat (see 0002).

-- One-time codes between the commit that issued them and the gateway's
-- answer. The code itself is never here (only its keyed hash, in
-- otp_state): a row left behind by a crash means "maybe not delivered",
-- and the merchant is told so and may ask for a new code at once.
CREATE TABLE otp_pending (
    merchant_id TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    chat_id     BIGINT NOT NULL,
    user_id     BIGINT NOT NULL,
    owner       TEXT NOT NULL,
    deadline    BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, issued_at)
);
CREATE INDEX otp_pending_deadline ON otp_pending (deadline);
