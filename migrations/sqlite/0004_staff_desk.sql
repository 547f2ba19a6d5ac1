-- The staff desk: each ticket's context card (edited in place), the ticket
-- a new one follows, and rejections waiting for their reason.
ALTER TABLE tickets ADD COLUMN card_message_id INTEGER;
ALTER TABLE tickets ADD COLUMN previous_ticket_id INTEGER;
CREATE INDEX tickets_chat ON tickets (chat_id, id);

CREATE TABLE staff_prompts (
    agent_id  INTEGER PRIMARY KEY,
    reference TEXT NOT NULL,
    ticket_id INTEGER,
    until     INTEGER NOT NULL
);

-- Which merchant message each staff reply became (a staff edit follows).
CREATE TABLE staff_relays (
    staff_message_id INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL,
    message_id       INTEGER NOT NULL
);

-- The post of each request in the staff group's requests topic (edited on
-- every status change).
ALTER TABLE unbind_requests ADD COLUMN post_message_id INTEGER;
