-- $1: codes sent, [[merchant, code_hash, expires_at, user_id, at]].
INSERT INTO otp_state (merchant_id, code_hash, expires_at, failures, last_sent_at)
SELECT value ->> 0, value ->> 1, value ->> 2, 0, value ->> 4 FROM jsonb_each($1) WHERE true
ON CONFLICT (merchant_id) DO UPDATE SET code_hash = excluded.code_hash,
    expires_at = excluded.expires_at, last_sent_at = excluded.last_sent_at;
INSERT INTO otp_sends (merchant_id, user_id, sent_at)
SELECT value ->> 0, value ->> 3, value ->> 4 FROM jsonb_each($1);
