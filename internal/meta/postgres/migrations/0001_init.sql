-- strongroom metadata, schema 1. Every table that belongs to a bucket has
-- the bucket as the first column of its primary key (or unique key), so a
-- distributed engine can use it as the distribution key: every statement
-- of an object operation names one bucket. Object keys are bytea (keys may
-- hold NUL, and order must be bytewise, as S3 lists); names are
-- COLLATE "C" text.

CREATE TABLE buckets (
	name       text COLLATE "C" PRIMARY KEY,
	versioning text NOT NULL DEFAULT '',
	rec        bytea NOT NULL -- JSON of meta.Bucket
);

-- Every version of every object. Within a key, seq orders the versions
-- (newest highest); the current one is the newest and has current set.
-- version_id is '' for the null version.
CREATE TABLE versions (
	bucket        text COLLATE "C" NOT NULL,
	key           bytea NOT NULL,
	seq           bigint NOT NULL,
	version_id    text COLLATE "C" NOT NULL,
	current       boolean NOT NULL,
	delete_marker boolean NOT NULL,
	rec           bytea NOT NULL, -- JSON of meta.Object
	PRIMARY KEY (bucket, key, seq)
);
-- ListObjectVersions: key order, newest first.
CREATE UNIQUE INDEX versions_listing ON versions (bucket, key, seq DESC);
-- ListObjects and GetObject: the current versions that are objects.
CREATE UNIQUE INDEX versions_current ON versions (bucket, key) WHERE current;
CREATE INDEX versions_objects ON versions (bucket, key) WHERE current AND NOT delete_marker;

CREATE TABLE uploads (
	bucket    text COLLATE "C" NOT NULL,
	id        text COLLATE "C" NOT NULL,
	key       bytea NOT NULL,
	init_sec  bigint NOT NULL,
	init_nsec integer NOT NULL,
	rec       bytea NOT NULL, -- JSON of meta.Upload
	PRIMARY KEY (bucket, id)
);
CREATE INDEX uploads_listing ON uploads (bucket, key, init_sec, init_nsec, id);

CREATE TABLE parts (
	bucket    text COLLATE "C" NOT NULL,
	upload_id text COLLATE "C" NOT NULL,
	number    bigint NOT NULL,
	rec       bytea NOT NULL, -- JSON of meta.Part
	PRIMARY KEY (bucket, upload_id, number)
);

CREATE TABLE completed (
	bucket    text COLLATE "C" NOT NULL,
	id        text COLLATE "C" NOT NULL,
	done_sec  bigint NOT NULL,
	done_nsec integer NOT NULL,
	rec       bytea NOT NULL, -- JSON of meta.CompletedUpload
	PRIMARY KEY (bucket, id)
);
CREATE INDEX completed_age ON completed (bucket, done_sec, done_nsec, id);

CREATE TABLE users (
	name text COLLATE "C" PRIMARY KEY,
	rec  bytea NOT NULL -- JSON of meta.User
);

CREATE TABLE access_keys (
	id        text COLLATE "C" PRIMARY KEY,
	user_name text COLLATE "C" NOT NULL
);

CREATE TABLE jobs (
	name text COLLATE "C" PRIMARY KEY,
	rec  bytea NOT NULL -- JSON of meta.Job
);

CREATE TABLE remotes (
	name text COLLATE "C" PRIMARY KEY,
	rec  bytea NOT NULL -- JSON of meta.Remote
);

-- The replication queue, in write order.
CREATE TABLE replq (
	seq bigserial PRIMARY KEY,
	rec bytea NOT NULL -- JSON of meta.ReplicationEntry (Seq from the column)
);

-- Object counters per encryption class, spread over shards so concurrent
-- writers do not queue on one row; ObjectStats sums them.
CREATE TABLE stats (
	class   text COLLATE "C" NOT NULL,
	shard   integer NOT NULL,
	objects bigint NOT NULL,
	bytes   bigint NOT NULL,
	PRIMARY KEY (class, shard)
);

-- Small named blobs a deployment shares (the builtin keyring, sealed).
CREATE TABLE blobs (
	name  text COLLATE "C" PRIMARY KEY,
	value bytea NOT NULL
);
