-- strongroom metadata, schema 3: the pending-blob journal
-- (meta.PendingBlobs): blobs that may exist in the data tier with no
-- metadata referencing them (being written, or dropped and not yet
-- deleted), per node, so a node's start-up sweep reads its own entries
-- instead of walking the tier. Blob IDs are random and unique across
-- nodes, so the transactions that reference a blob clear its entry by ID
-- alone (pending_blobs_id).
CREATE TABLE pending_blobs (
	node     text COLLATE "C" NOT NULL,
	id       text COLLATE "C" NOT NULL,
	added_ns bigint NOT NULL, -- Unix nanoseconds
	PRIMARY KEY (node, id)
);
CREATE UNIQUE INDEX pending_blobs_id ON pending_blobs (id);
