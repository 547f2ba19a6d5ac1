-- $7: merchant facts wanted, [[merchant, user_id, an hour ago]] (after the
-- held-back writes, $1-$6): one row per key with the merchant, its code
-- state, both hourly send counts and its latest requests.
SELECT k.merchant AS key_merchant, CAST(k.user AS BIGINT) AS key_user,
    m.name, m.phone, m.card_mask, m.bank_name,
    o.merchant_id AS otp_merchant, o.code_hash, o.expires_at, o.failures, o.locked_until, o.last_sent_at,
    (SELECT COUNT(*) FROM otp_sends WHERE merchant_id = k.merchant AND sent_at > k.since) AS merchant_sends,
    (SELECT COUNT(*) FROM otp_sends WHERE user_id = k.user AND sent_at > k.since) AS user_sends,
    (SELECT json_group_array(json_array(reference, status, created_at)) FROM
        (SELECT reference, status, created_at FROM unbind_requests WHERE merchant_id = k.merchant
         ORDER BY created_at DESC LIMIT 20)) AS requests
FROM (SELECT value ->> 0 AS merchant, value ->> 1 AS user, value ->> 2 AS since FROM jsonb_each($7)) AS k
LEFT JOIN merchants m ON m.merchant_id = k.merchant
LEFT JOIN otp_state o ON o.merchant_id = k.merchant;
