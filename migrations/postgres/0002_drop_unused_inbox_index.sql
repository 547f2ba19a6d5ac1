-- The inbox is read in update order only (the primary key); an index by
-- chat cost a random page write for every update stored and deleted.
DROP INDEX IF EXISTS inbox_chat;
