-- $5: codes used, [[merchant]].
otp_consumed AS (
    UPDATE otp_state SET failures = 0, code_hash = NULL, expires_at = NULL
    WHERE merchant_id = ANY (ARRAY(SELECT j->>0 FROM jsonb_array_elements($5::jsonb) AS j))
),
