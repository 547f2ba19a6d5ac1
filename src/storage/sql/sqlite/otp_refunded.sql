-- $2: codes the gateway refused, which do not count, [[merchant]].
UPDATE otp_state SET code_hash = NULL, expires_at = NULL, last_sent_at = NULL
WHERE merchant_id IN (SELECT value ->> 0 FROM jsonb_each($2));
DELETE FROM otp_sends WHERE id IN (
    SELECT (SELECT MAX(id) FROM otp_sends WHERE merchant_id = j.value ->> 0) FROM jsonb_each($2) AS j);
