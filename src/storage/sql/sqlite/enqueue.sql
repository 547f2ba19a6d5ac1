-- $14: queued messages, [[chat_id, ticket_id, payload, priority, at]]; answers
-- their ids: the newest ones, as many as were queued (ids only grow, and the
-- write lock keeps everyone else out).
INSERT INTO outbox (chat_id, ticket_id, payload, priority, status, attempts, next_attempt_at, created_at)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, 'pending', 0, value ->> 4, value ->> 4
FROM jsonb_each($14);
SELECT json_group_array(id) AS queued_ids FROM
    (SELECT id FROM outbox ORDER BY id DESC LIMIT json_array_length($14));
