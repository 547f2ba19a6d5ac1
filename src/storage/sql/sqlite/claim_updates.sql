-- $1: update ids to claim, [[update_id, chat_id, at]]: answers those applied
-- before, then claims them.
SELECT json_group_array(update_id) AS already_applied FROM processed_updates
WHERE update_id IN (SELECT value ->> 0 FROM jsonb_each($1));
INSERT INTO processed_updates (update_id, chat_id, processed_at)
SELECT value ->> 0, value ->> 1, value ->> 2 FROM jsonb_each($1) WHERE true
ON CONFLICT (update_id) DO NOTHING;
