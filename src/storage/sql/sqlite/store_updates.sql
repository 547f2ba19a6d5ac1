-- $7: updates stored, [[update_id, chat_id, payload, received_at]].
INSERT INTO inbox (update_id, chat_id, payload, received_at)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM jsonb_each($7) WHERE true
ON CONFLICT (update_id) DO NOTHING;
