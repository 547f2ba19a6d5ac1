-- $1: codes sent, [[merchant, code_hash, expires_at, user_id, at]].
otp_issued AS (
    INSERT INTO otp_state (merchant_id, code_hash, expires_at, failures, last_sent_at)
    SELECT j->>0, j->>1, (j->>2)::int8, 0, (j->>4)::int8 FROM jsonb_array_elements($1::jsonb) AS j
    ON CONFLICT (merchant_id) DO UPDATE SET code_hash = excluded.code_hash,
        expires_at = excluded.expires_at, last_sent_at = excluded.last_sent_at
),
otp_issued_sends AS (
    INSERT INTO otp_sends (merchant_id, user_id, sent_at)
    SELECT j->>0, (j->>3)::int8, (j->>4)::int8 FROM jsonb_array_elements($1::jsonb) AS j
),
