-- $8: messages sent, [[id, sent_at]].
UPDATE outbox SET status = 'sent', sent_at = s.value ->> 1, attempts = attempts + 1
FROM jsonb_each($8) AS s WHERE outbox.id = s.value ->> 0;
