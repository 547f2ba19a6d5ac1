-- Several replicas read a chat's stored, unapplied updates under its lease
-- before applying any of them (per-chat order whichever replica stored
-- them): that read needs the inbox by chat.
CREATE INDEX IF NOT EXISTS inbox_chat ON inbox (chat_id, update_id);

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
