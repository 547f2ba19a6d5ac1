-- $3: wrong codes, [[merchant]].
otp_failed AS (
    UPDATE otp_state SET failures = failures + 1
    WHERE merchant_id = ANY (ARRAY(SELECT j->>0 FROM jsonb_array_elements($3::jsonb) AS j))
),
