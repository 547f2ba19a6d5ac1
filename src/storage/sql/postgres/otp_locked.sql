-- $4: code entry locked after too many wrong codes, [[merchant, until]].
otp_locked AS (
    UPDATE otp_state SET failures = 0, locked_until = (j->>1)::int8, code_hash = NULL, expires_at = NULL
    FROM jsonb_array_elements($4::jsonb) AS j WHERE otp_state.merchant_id = j->>0
),
