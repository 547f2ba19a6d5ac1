-- $1: update ids to claim, [[update_id, chat_id, at]]; $2: chats, [chat_id].
-- Answers the update ids claimed now (not applied before), and the chats'
-- conversations and open (or claimed) tickets as one array of
-- [chat_id, state, ticket_id, assignee_name].
WITH claimed AS (
    INSERT INTO processed_updates (update_id, chat_id, processed_at)
    SELECT (j->>0)::int8, (j->>1)::int8, (j->>2)::int8 FROM jsonb_array_elements($1::jsonb) AS j
    ON CONFLICT (update_id) DO NOTHING
    RETURNING update_id
)
SELECT COALESCE((SELECT jsonb_agg(update_id) FROM claimed), '[]'::jsonb)::text AS claimed,
    COALESCE((SELECT jsonb_agg(jsonb_build_array(c.chat_id, c.state, t.id, t.assignee_name))
        FROM conversations c
        LEFT JOIN tickets t ON t.chat_id = c.chat_id AND t.status IN ('open', 'claimed')
        WHERE c.chat_id = ANY (ARRAY(SELECT (j #>> '{}')::int8 FROM jsonb_array_elements($2::jsonb) AS j))),
        '[]'::jsonb)::text AS chats
