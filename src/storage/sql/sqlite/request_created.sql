-- $6: unbinding requests, [[reference, merchant, chat_id, user_id, at]].
INSERT INTO unbind_requests (reference, merchant_id, chat_id, user_id, status, created_at, updated_at)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, 'submitted', value ->> 4, value ->> 4
FROM jsonb_each($6);
