-- $1: chats, [chat_id]: transaction-scoped locks, taken in ascending order
-- so that two replicas locking overlapping sets cannot deadlock (volatile
-- functions in the select list run after ORDER BY).
SELECT pg_advisory_xact_lock(c.id) AS locked
FROM (SELECT DISTINCT (j #>> '{}')::int8 AS id FROM jsonb_array_elements($1::jsonb) AS j) AS c
ORDER BY c.id
