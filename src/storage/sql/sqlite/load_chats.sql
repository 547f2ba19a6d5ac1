-- $2: chats, [chat_id]: their conversations and open (or claimed) tickets,
-- as one array of [chat_id, state, ticket_id, assignee_name].
SELECT json_group_array(json_array(c.chat_id, c.state, t.id, t.assignee_name)) AS chats
FROM conversations c
LEFT JOIN tickets t ON t.chat_id = c.chat_id AND t.status IN ('open', 'claimed')
WHERE c.chat_id IN (SELECT value FROM jsonb_each($2));
