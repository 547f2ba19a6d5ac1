-- $10: turn records, [[chat_id, update_id, event, intent, input, state_before, state_after, at]].
INSERT INTO turns (chat_id, update_id, event, intent, input, state_before, state_after, at)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7
FROM jsonb_each($10);
