package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// lazyTx is a pgx.Tx that spends no round trip of its own: BEGIN goes out
// in one batch with the transaction's first statement, and the writes a
// batchExec defers (deferWrites) go out ahead of the next statement or in
// one batch with COMMIT. A write of an object is then two round trips:
// BEGIN with the key's lock and reads, the writes with COMMIT.
//
// A deferred write's error surfaces from the statement it was sent with
// (or from Commit), so fn's outputs must not be trusted before Commit
// returns nil, as with any transaction.
type lazyTx struct {
	conn   *pgx.Conn
	tail   []*pgx.QueuedQuery // BEGIN and deferred writes, not sent yet
	begun  bool               // BEGIN was sent
	closed bool
}

var _ pgx.Tx = (*lazyTx)(nil)

var errNestedTx = errors.New("meta/postgres: nested transactions are not supported")

func newLazyTx(conn *pgx.Conn, opts pgx.TxOptions) *lazyTx {
	return &lazyTx{conn: conn, tail: []*pgx.QueuedQuery{{SQL: beginSQL(opts)}}}
}

// beginSQL is the BEGIN statement of opts (pgx's own is unexported).
func beginSQL(opts pgx.TxOptions) string {
	if opts.BeginQuery != "" {
		return opts.BeginQuery
	}
	var b strings.Builder
	b.WriteString("BEGIN")
	if opts.IsoLevel != "" {
		b.WriteString(" ISOLATION LEVEL " + string(opts.IsoLevel))
	}
	if opts.AccessMode != "" {
		b.WriteString(" " + string(opts.AccessMode))
	}
	if opts.DeferrableMode != "" {
		b.WriteString(" " + string(opts.DeferrableMode))
	}
	return b.String()
}

// deferWrites queues qs to go out with the next statement or COMMIT.
func (t *lazyTx) deferWrites(qs []*pgx.QueuedQuery) { t.tail = append(t.tail, qs...) }

// send sends the tail, then qs, in one batch; the tail's results are read
// before the batch is returned.
func (t *lazyTx) send(ctx context.Context, qs []*pgx.QueuedQuery) pgx.BatchResults {
	if t.closed {
		return failedBatch{pgx.ErrTxClosed}
	}
	n := len(t.tail)
	b := &pgx.Batch{QueuedQueries: append(t.tail, qs...)}
	t.tail, t.begun = nil, true
	br := t.conn.SendBatch(ctx, b)
	for range n {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return failedBatch{err}
		}
	}
	return br
}

// flushTail sends the tail alone, if there is one.
func (t *lazyTx) flushTail(ctx context.Context) error {
	if len(t.tail) == 0 {
		return nil
	}
	return t.send(ctx, nil).Close()
}

func (t *lazyTx) Begin(context.Context) (pgx.Tx, error) { return nil, errNestedTx }

// Commit sends the tail and COMMIT in one batch.
func (t *lazyTx) Commit(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	if !t.begun && len(t.tail) == 1 { // nothing was done
		t.closed = true
		return nil
	}
	qs := append(t.tail, &pgx.QueuedQuery{SQL: "COMMIT"})
	t.tail, t.begun = nil, true
	br := t.conn.SendBatch(ctx, &pgx.Batch{QueuedQueries: qs})
	var tag pgconn.CommandTag
	var err error
	for range qs {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() == "ROLLBACK" {
		err = pgx.ErrTxCommitRollback
	}
	if err != nil {
		t.Rollback(ctx)
		return err
	}
	t.closed = true
	return nil
}

// Rollback rolls back what was sent and drops the tail.
func (t *lazyTx) Rollback(ctx context.Context) error {
	if t.closed {
		return pgx.ErrTxClosed
	}
	t.closed, t.tail = true, nil
	if !t.begun || t.conn.PgConn().TxStatus() == 'I' {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "ROLLBACK"); err != nil {
		t.conn.Close(ctx) // the pool drops a connection left in a transaction
		return err
	}
	return nil
}

func (t *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.flushTail(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, cols, src)
}

func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.send(ctx, b.QueuedQueries)
}

func (t *lazyTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (t *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}

func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if len(t.tail) == 0 && !t.closed {
		return t.conn.Exec(ctx, sql, args...)
	}
	br := t.send(ctx, []*pgx.QueuedQuery{{SQL: sql, Arguments: args}})
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.closed {
		return nil, pgx.ErrTxClosed
	}
	if err := t.flushTail(ctx); err != nil {
		return nil, err
	}
	return t.conn.Query(ctx, sql, args...)
}

func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if len(t.tail) == 0 && !t.closed {
		return t.conn.QueryRow(ctx, sql, args...)
	}
	br := t.send(ctx, []*pgx.QueuedQuery{{SQL: sql, Arguments: args}})
	return batchRow{br, br.QueryRow()}
}

func (t *lazyTx) Conn() *pgx.Conn { return t.conn }

// batchRow is a row of a batch of its own, closed once scanned.
type batchRow struct {
	br  pgx.BatchResults
	row pgx.Row
}

func (r batchRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	return err
}

// failedBatch is a batch whose tail failed: every result is its error.
type failedBatch struct{ err error }

func (f failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f failedBatch) Query() (pgx.Rows, error)         { return nil, f.err }
func (f failedBatch) QueryRow() pgx.Row                { return errRow(f) }
func (f failedBatch) Close() error                     { return f.err }
func (f failedBatch) Tx() pgx.Tx                       { return nil }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
