-- $13: codes on their way to the gateway, [[merchant, issued_at, chat_id, user_id, owner, deadline]].
INSERT INTO otp_pending (merchant_id, issued_at, chat_id, user_id, owner, deadline)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 FROM jsonb_each($13) WHERE true
ON CONFLICT (merchant_id, issued_at) DO NOTHING;
