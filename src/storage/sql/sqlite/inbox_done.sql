-- $12: applied updates off the inbox, [update_id].
DELETE FROM inbox WHERE update_id IN (SELECT value FROM jsonb_each($12));
