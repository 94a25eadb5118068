package inventory

import (
	"crypto/md5"
	"encoding/hex"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/parquet-go/parquet-go"
)

// RowWriter writes one data file's rows, measuring the file as it goes.
type RowWriter interface {
	Write(row []string) error
	// Close ends the file and returns its manifest entry.
	Close(key string) (File, error)
	// Rows is how many rows were written.
	Rows() int
}

// NewWriter starts a data file in the configuration's format, written to w.
func (c *Config) NewWriter(w io.Writer) RowWriter {
	if c.Destination.Format == Parquet {
		return newParquetWriter(w, c)
	}
	return NewDataWriter(w)
}

// parquetRowGroup bounds the rows a Parquet writer buffers before it
// writes them out (a row group), and so its memory.
const parquetRowGroup = 10_000

// columnName is a column's Parquet name, as S3 writes it: snake case
// (VersionId → version_id, ETag → e_tag).
func columnName(field string) string {
	var b strings.Builder
	rs := []rune(field)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

type columnKind int

const (
	kindString columnKind = iota
	kindInt
	kindBool
	kindTime
)

func fieldKind(field string) columnKind {
	switch field {
	case FieldSize:
		return kindInt
	case "IsLatest", "IsDeleteMarker", FieldIsMultipartUploaded:
		return kindBool
	case FieldLastModifiedDate, FieldObjectLockRetainUntilDate:
		return kindTime
	}
	return kindString
}

// ParquetSchema is the schema of c's Parquet data files: Bucket and Key
// required, every other column optional.
func (c *Config) ParquetSchema() *parquet.Schema {
	g := parquet.Group{}
	for i, f := range c.Columns() {
		var n parquet.Node
		switch fieldKind(f) {
		case kindInt:
			n = parquet.Int(64)
		case kindBool:
			n = parquet.Leaf(parquet.BooleanType)
		case kindTime:
			n = parquet.Timestamp(parquet.Millisecond)
		default:
			n = parquet.String()
		}
		if i >= 2 {
			n = parquet.Optional(n)
		}
		g[columnName(f)] = n
	}
	return parquet.NewSchema("s3.inventory", g)
}

type parquetWriter struct {
	w      *parquet.GenericWriter[any]
	out    *measure
	kinds  []columnKind
	order  []int // column index of each row value (Parquet sorts columns by name)
	values parquet.Row
	rows   int
}

func newParquetWriter(w io.Writer, c *Config) *parquetWriter {
	schema := c.ParquetSchema()
	out := newMeasure(w)
	p := &parquetWriter{out: out, w: parquet.NewGenericWriter[any](out, schema, parquet.MaxRowsPerRowGroup(parquetRowGroup))}
	index := map[string]int{}
	for i, path := range schema.Columns() {
		index[path[0]] = i
	}
	for _, f := range c.Columns() {
		p.kinds = append(p.kinds, fieldKind(f))
		p.order = append(p.order, index[columnName(f)])
	}
	p.values = make(parquet.Row, len(p.order))
	return p
}

// Write adds a row given as Config.Row renders it: an empty value is null
// (Bucket and Key are never empty).
func (p *parquetWriter) Write(row []string) error {
	for i, v := range row {
		col := p.order[i]
		def := 1
		if i < 2 {
			def = 0 // required
		}
		var val parquet.Value
		switch k := p.kinds[i]; {
		case v == "" && i >= 2:
			p.values[col] = parquet.NullValue().Level(0, 0, col)
			continue
		case k == kindInt:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return err
			}
			val = parquet.Int64Value(n)
		case k == kindBool:
			val = parquet.BooleanValue(v == "true")
		case k == kindTime:
			t, err := time.Parse("2006-01-02T15:04:05.000Z", v)
			if err != nil {
				return err
			}
			val = parquet.Int64Value(t.UnixMilli())
		default:
			val = parquet.ByteArrayValue([]byte(v))
		}
		p.values[col] = val.Level(0, def, col)
	}
	if _, err := p.w.WriteRows([]parquet.Row{p.values}); err != nil {
		return err
	}
	p.rows++
	return nil
}

func (p *parquetWriter) Rows() int { return p.rows }

func (p *parquetWriter) Close(key string) (File, error) {
	if err := p.w.Close(); err != nil {
		return File{}, err
	}
	return p.out.file(key), nil
}

// measure counts and hashes (MD5) the bytes written through it: a data
// file's size and checksum for the manifest.
type measure struct {
	w   io.Writer
	n   int64
	sum hash.Hash
}

func newMeasure(w io.Writer) *measure { return &measure{w: w, sum: md5.New()} }

func (m *measure) Write(p []byte) (int, error) {
	n, err := m.w.Write(p)
	m.sum.Write(p[:n])
	m.n += int64(n)
	return n, err
}

func (m *measure) file(key string) File {
	return File{Key: key, Size: m.n, MD5Checksum: hex.EncodeToString(m.sum.Sum(nil))}
}
