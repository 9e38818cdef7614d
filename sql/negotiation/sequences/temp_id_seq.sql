-- Temporary IDs of integer keys: negative, so they can never equal a permanent ID
-- that a sequence or identity (counting up from 1) hands out.
CREATE SEQUENCE IF NOT EXISTS idsql.temp_id_seq AS bigint INCREMENT BY -1 MAXVALUE -1 START WITH -1;

COMMENT ON SEQUENCE idsql.temp_id_seq IS
'ID negotiation: the negative temporary IDs that new_temp_id() issues for integer keys.';
