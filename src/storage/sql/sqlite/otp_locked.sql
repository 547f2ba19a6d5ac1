-- $4: code entry locked after too many wrong codes, [[merchant, until]].
UPDATE otp_state SET failures = 0, locked_until = j.value ->> 1, code_hash = NULL, expires_at = NULL
FROM jsonb_each($4) AS j WHERE otp_state.merchant_id = j.value ->> 0;
