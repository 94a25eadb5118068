package postgres

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Listings read in chunks, each one indexed range query (no transaction
// held), and call fn outside any query: fn may call back into the store.
// A delimiter roll-up seeks past the common prefix (prefix+FF), so the keys
// under it are never read: a page's cost follows the page, not the
// bucket. Object listings do it inside the query (skipScan: a chunk is one
// round trip whatever it rolls up); version listings end the chunk at a
// roll-up and seek with the next query.

const (
	firstChunk = 64
	maxChunk   = 1024
)

// ListObjects implements meta.Store.
func (s *Store) ListObjects(ctx context.Context, bucket, prefix, after string, fn func(*meta.Object) error) error {
	return s.ListObjectsDelimited(ctx, bucket, prefix, "", after, func(o *meta.Object, _ string) error { return fn(o) })
}

func (s *Store) checkBucket(ctx context.Context, bucket string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := bucketState(ctx, s.pool, bucket, "")
	return mapErr(ctx, err)
}

// rollUp returns the common prefix key rolls up to in a listing by a
// prefix of n bytes and delimiter, or "".
func rollUp(key string, n int, delim string) string {
	if delim == "" {
		return ""
	}
	i := strings.Index(key[n:], delim)
	if i < 0 {
		return ""
	}
	return key[:n+i+len(delim)]
}

type listItem struct {
	o      *meta.Object
	latest bool
	cp     string
}

// skipScan lists current objects rolled up by a delimiter in one query: a
// loose index scan (a recursive CTE taking one row per step from the
// index) where the step after a key that rolls up to a common prefix cp
// seeks to cp+FF, so the keys under cp are never read. Each row is an
// object or the first key of a common prefix. $1 bucket, $2 inclusive
// lower bound, $3 exclusive lower bound, $4 upper bound, $5 rows, $6
// delimiter, $7 the prefix's length.
const skipScan = `WITH RECURSIVE walk (key, rec, n) AS (
	(SELECT key, rec, 1 FROM versions WHERE bucket = $1 AND current AND NOT delete_marker
		AND key >= $2 AND key > $3 AND key < $4 ORDER BY key LIMIT 1)
	UNION ALL
	SELECT v.key, v.rec, w.n + 1 FROM walk w, LATERAL (
		SELECT key, rec FROM versions WHERE bucket = $1 AND current AND NOT delete_marker AND key < $4 AND key > w.key
			AND key >= CASE WHEN position($6::bytea IN substring(w.key FROM $7::int + 1)) > 0
				THEN substring(w.key FROM 1 FOR $7::int + position($6::bytea IN substring(w.key FROM $7::int + 1)) - 1 + length($6::bytea)) || '\xff'::bytea
				ELSE w.key END
		ORDER BY key LIMIT 1) v
	WHERE w.n < $5
)
SELECT key, rec FROM walk`

// ListObjectsDelimited implements meta.Store.
func (s *Store) ListObjectsDelimited(ctx context.Context, bucket, prefix, delimiter, after string, fn func(o *meta.Object, commonPrefix string) error) error {
	if err := s.checkBucket(ctx, bucket); err != nil {
		return err
	}
	lo := []byte(prefix) // inclusive lower bound
	excl := after        // last key not to return
	hi := upperBound(prefix)
	chunk := firstChunk
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var items []listItem
		var rows pgx.Rows
		var err error
		if delimiter == "" {
			rows, err = s.pool.Query(ctx, `SELECT key, rec FROM versions WHERE bucket = $1 AND current AND NOT delete_marker
				AND key >= $2 AND key > $3 AND key < $4 ORDER BY key LIMIT $5`, bucket, lo, []byte(excl), hi, chunk)
		} else {
			rows, err = s.pool.Query(ctx, skipScan, bucket, lo, []byte(excl), hi, chunk, []byte(delimiter), len(prefix))
		}
		if err != nil {
			return mapErr(ctx, err)
		}
		n := 0
		for rows.Next() {
			n++
			var key, rec []byte
			if err := rows.Scan(&key, &rec); err != nil {
				rows.Close()
				return mapErr(ctx, err)
			}
			if cp := rollUp(string(key), len(prefix), delimiter); cp != "" {
				if !strings.HasPrefix(after, cp) { // not returned by an earlier page
					items = append(items, listItem{cp: cp})
				}
				lo = upperBound(cp)
				continue // skipScan's next row is past cp already
			}
			o, err := decode[meta.Object](rec, "object")
			if err != nil {
				rows.Close()
				return err
			}
			items = append(items, listItem{o: o})
			excl = o.Key
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(ctx, err)
		}
		if stop, err := deliver(items, n < chunk, func(it listItem) error { return fn(it.o, it.cp) }); stop {
			return err
		}
		chunk = min(chunk*4, maxChunk)
	}
}

// deliver calls fn for a chunk's items outside any query; stop reports
// that the listing ends (last chunk, an error, or meta.ErrStop: no error).
func deliver(items []listItem, last bool, fn func(listItem) error) (stop bool, err error) {
	for _, it := range items {
		if err := fn(it); err != nil {
			if errors.Is(err, meta.ErrStop) {
				return true, nil
			}
			return true, err
		}
	}
	return last, nil
}

// versionMark is a position in the version listing: after the version
// seq of key (seq math.MinInt64: after every version of key).
type versionMark struct {
	key string
	seq int64
}

// ListObjectVersions implements meta.Store.
func (s *Store) ListObjectVersions(ctx context.Context, bucket, prefix, keyMarker, versionMarker string, fn func(*meta.Object, bool) error) error {
	return s.ListVersionsDelimited(ctx, bucket, prefix, "", keyMarker, versionMarker, func(o *meta.Object, latest bool, _ string) error { return fn(o, latest) })
}

// ListVersionsDelimited implements meta.Store.
func (s *Store) ListVersionsDelimited(ctx context.Context, bucket, prefix, delimiter, keyMarker, versionMarker string, fn func(o *meta.Object, latest bool, commonPrefix string) error) error {
	if err := s.checkBucket(ctx, bucket); err != nil {
		return err
	}
	mark := versionMark{seq: math.MinInt64}
	if keyMarker != "" {
		mark.key = keyMarker
		if versionMarker != "" {
			var err error
			if mark, err = s.versionMarkOf(ctx, bucket, keyMarker, versionMarker); err != nil {
				return err
			}
		}
	}
	lo := []byte(prefix)
	hi := upperBound(prefix)
	chunk := firstChunk
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if bytes.Compare([]byte(mark.key), lo) > 0 {
			lo = []byte(mark.key)
		}
		var items []listItem
		done := true
		rows, err := s.pool.Query(ctx, `SELECT key, seq, current, rec FROM versions WHERE bucket = $1
			AND key >= $2 AND key < $3 AND (key > $4 OR (key = $4 AND seq < $5))
			ORDER BY key, seq DESC LIMIT $6`, bucket, lo, hi, []byte(mark.key), mark.seq, chunk)
		if err != nil {
			return mapErr(ctx, err)
		}
		n := 0
		for rows.Next() {
			n++
			var key, rec []byte
			var seq int64
			var current bool
			if err := rows.Scan(&key, &seq, &current, &rec); err != nil {
				rows.Close()
				return mapErr(ctx, err)
			}
			if cp := rollUp(string(key), len(prefix), delimiter); cp != "" {
				if !strings.HasPrefix(keyMarker, cp) {
					items = append(items, listItem{cp: cp})
				}
				mark = versionMark{key: string(upperBound(cp)), seq: math.MinInt64}
				done = false
				break
			}
			o, err := decode[meta.Object](rec, "object")
			if err != nil {
				rows.Close()
				return err
			}
			items = append(items, listItem{o: o, latest: current})
			mark = versionMark{key: o.Key, seq: seq}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return mapErr(ctx, err)
		}
		if stop, err := deliver(items, n < chunk && done, func(it listItem) error { return fn(it.o, it.latest, it.cp) }); stop {
			return err
		}
		chunk = min(chunk*4, maxChunk)
	}
}

// versionMarkOf resolves a (key, version) marker to its place in the
// listing: after that version, or where it was if it is gone.
func (s *Store) versionMarkOf(ctx context.Context, bucket, key, versionID string) (versionMark, error) {
	v, err := findVersion(ctx, s.pool, bucket, key, versionID)
	switch {
	case err != nil:
		return versionMark{}, mapErr(ctx, err)
	case v != nil:
		return versionMark{key: key, seq: v.seq}, nil
	case versionID == meta.NullVersion:
		// No null version: after the current object, if any.
		cur, err := currentVersion(ctx, s.pool, bucket, key)
		if err != nil {
			return versionMark{}, mapErr(ctx, err)
		}
		if live := liveObject(cur); live != nil {
			return versionMark{key: key, seq: live.seq}, nil
		}
		return versionMark{key: key, seq: math.MaxInt64}, nil
	}
	seq, _ := meta.VersionSeq(versionID) // a version since deleted: resume at its place
	return versionMark{key: key, seq: int64(seq)}, nil
}
