-- strongroom metadata, schema 2: KMS key policies (meta.KeyPolicies):
-- owner, grants and deletion schedule of each key, by canonical key id.
-- The policy is one JSON record like every other record here: it is read
-- and written whole (UpdateKeyPolicy), no query selects on its fields, and
-- new fields need no migration. The table is tiny (one row per key).
CREATE TABLE key_policies (
	key text COLLATE "C" PRIMARY KEY,
	rec bytea NOT NULL -- JSON of meta.KeyPolicy
);
