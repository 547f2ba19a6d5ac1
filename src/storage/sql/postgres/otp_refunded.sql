-- $2: codes the gateway refused, which do not count, [[merchant]].
otp_refunded AS (
    UPDATE otp_state SET code_hash = NULL, expires_at = NULL, last_sent_at = NULL
    WHERE merchant_id = ANY (ARRAY(SELECT j->>0 FROM jsonb_array_elements($2::jsonb) AS j))
),
otp_refunded_sends AS (
    DELETE FROM otp_sends WHERE id = ANY (ARRAY(
        SELECT (SELECT MAX(id) FROM otp_sends WHERE merchant_id = j->>0) FROM jsonb_array_elements($2::jsonb) AS j))
),
