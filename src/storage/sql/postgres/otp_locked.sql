-- $4: code entry locked after too many wrong codes, [[merchant, until]].
otp_locked AS (
    UPDATE otp_state SET failures = 0, code_hash = NULL, expires_at = NULL,
        locked_until = (SELECT (j->>1)::int8 FROM jsonb_array_elements($4::jsonb) AS j WHERE j->>0 = merchant_id LIMIT 1)
    WHERE merchant_id = ANY (ARRAY(SELECT j->>0 FROM jsonb_array_elements($4::jsonb) AS j))
),
