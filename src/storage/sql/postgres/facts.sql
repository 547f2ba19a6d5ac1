-- $1: merchant facts wanted, [[merchant, user_id, an hour ago]]: one row per
-- key with the merchant, its code state, both hourly send counts and its
-- latest requests. (`= ANY (ARRAY(…))`: the planner, which guesses a
-- hundred keys, would otherwise scan the tables instead of their index.)
SELECT k.merchant AS key_merchant, k.uid AS key_user,
    m.name, m.phone, m.card_mask, m.bank_name,
    o.merchant_id AS otp_merchant, o.code_hash, o.expires_at, o.failures, o.locked_until, o.last_sent_at,
    (SELECT COUNT(*) FROM otp_sends WHERE merchant_id = k.merchant AND sent_at > k.since) AS merchant_sends,
    (SELECT COUNT(*) FROM otp_sends WHERE user_id = k.uid AND sent_at > k.since) AS user_sends,
    (SELECT COALESCE(jsonb_agg(jsonb_build_array(r.reference, r.status, r.created_at)), '[]'::jsonb)::text FROM
        (SELECT reference, status, created_at FROM unbind_requests WHERE merchant_id = k.merchant
         ORDER BY created_at DESC LIMIT 20) AS r) AS requests
FROM (SELECT j->>0 AS merchant, (j->>1)::int8 AS uid, (j->>2)::int8 AS since
      FROM jsonb_array_elements($1::jsonb) AS j) AS k
LEFT JOIN merchants m ON m.merchant_id = k.merchant
    AND m.merchant_id = ANY (ARRAY(SELECT j->>0 FROM jsonb_array_elements($1::jsonb) AS j))
LEFT JOIN otp_state o ON o.merchant_id = k.merchant
    AND o.merchant_id = ANY (ARRAY(SELECT j->>0 FROM jsonb_array_elements($1::jsonb) AS j))
