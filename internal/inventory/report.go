package inventory

import (
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom-dev/strongroom/internal/meta"
)

// Matches reports whether the filter selects o (a delete marker has no
// size or date of its own to bound, so only the prefix selects it).
func (f *Filter) Matches(o *meta.Object) bool {
	if !strings.HasPrefix(o.Key, f.Prefix) {
		return false
	}
	if o.DeleteMarker {
		return true
	}
	switch t := o.LastModified.Unix(); {
	case f.ModifiedFrom > 0 && t < f.ModifiedFrom, f.ModifiedTo > 0 && t > f.ModifiedTo:
		return false
	case f.MinSize > 0 && o.Size < f.MinSize, f.MaxSize > 0 && o.Size > f.MaxSize:
		return false
	}
	return true
}

// Columns are the report's columns: Bucket, Key, the version columns when
// every version is listed, then the optional fields in configured order.
func (c *Config) Columns() []string {
	cols := []string{"Bucket", "Key"}
	if c.AllVersions {
		cols = append(cols, "VersionId", "IsLatest", "IsDeleteMarker")
	}
	return append(cols, c.Fields...)
}

// FileSchema is the manifest's fileSchema: the column names of a CSV
// report, the message schema of a Parquet one.
func (c *Config) FileSchema() string {
	if c.Destination.Format == Parquet {
		return c.ParquetSchema().String()
	}
	return strings.Join(c.Columns(), ", ")
}

// Encryption statuses (S3's values).
const (
	NotSSE = "NOT-SSE"
	SSES3  = "SSE-S3"
	SSEKMS = "SSE-KMS"
	SSEC   = "SSE-C"
)

// EncryptionStatus is S3's EncryptionStatus of a stored encryption.
func EncryptionStatus(e *meta.Encryption) string {
	if e == nil {
		return NotSSE
	}
	switch e.Mode {
	case "kms":
		return SSEKMS
	case "customer":
		return SSEC
	}
	return SSES3
}

// date is how S3 inventories write times (ISO 8601, milliseconds, UTC).
func date(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Row is o's row (latest: o is its key's current version). Delete markers
// leave the object fields empty, as S3 does.
func (c *Config) Row(bucket string, o *meta.Object, latest bool, row []string) []string {
	key := o.Key
	if c.Destination.Format != Parquet {
		key = url.QueryEscape(key) // CSV reports URL-encode keys
	}
	row = append(row[:0], bucket, key)
	if c.AllVersions {
		row = append(row, o.VersionID, strconv.FormatBool(latest), strconv.FormatBool(o.DeleteMarker))
	}
	for _, f := range c.Fields {
		row = append(row, field(f, o))
	}
	return row
}

func field(name string, o *meta.Object) string {
	if o.DeleteMarker {
		return ""
	}
	switch name {
	case FieldSize:
		return strconv.FormatInt(o.Size, 10)
	case FieldLastModifiedDate:
		return date(o.LastModified)
	case FieldStorageClass:
		return "STANDARD"
	case FieldETag:
		return o.ETag
	case FieldIsMultipartUploaded:
		return strconv.FormatBool(o.Multipart)
	case FieldReplicationStatus:
		return o.ReplicationStatus
	case FieldEncryptionStatus:
		return EncryptionStatus(o.Encryption)
	case FieldEncryptionAlgorithm:
		if o.Encryption == nil {
			return ""
		}
		if o.Encryption.Algorithm == "" {
			return "AES256"
		}
		return o.Encryption.Algorithm
	case FieldBucketKeyStatus:
		if o.Encryption != nil && o.Encryption.BucketKey {
			return "ENABLED"
		}
		return "DISABLED"
	case FieldObjectLockRetainUntilDate:
		if o.LockMode != "" && o.LockUntil != nil {
			return date(*o.LockUntil)
		}
	case FieldObjectLockMode:
		return o.LockMode
	case FieldObjectLockLegalHoldStatus:
		if o.LegalHold {
			return "ON"
		}
		return "OFF"
	case FieldChecksumAlgorithm:
		algs := make([]string, 0, len(o.Checksums))
		for a := range o.Checksums {
			if a != "CRC64ECMA" { // COS's Crc64, not an S3 checksum
				algs = append(algs, a)
			}
		}
		slices.Sort(algs)
		return strings.Join(algs, ",")
	case FieldObjectOwner:
		return o.Owner
	case "Crc64":
		return o.Checksums["CRC64ECMA"]
	}
	return ""
}

// AppendCSV appends row as S3 writes it: every value quoted, quotes
// doubled, a newline at the end.
func AppendCSV(b []byte, row []string) []byte {
	for i, v := range row {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		for j := 0; j < len(v); j++ {
			if v[j] == '"' {
				b = append(b, '"')
			}
			b = append(b, v[j])
		}
		b = append(b, '"')
	}
	return append(b, '\n')
}

// File is a data file of a report, as the manifest lists it.
type File struct {
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	MD5Checksum string `json:"MD5checksum"`
}

// DataWriter gzips CSV rows into w, measuring the compressed file (its
// size and MD5) as it goes; nothing but one row is held.
type DataWriter struct {
	gz   *gzip.Writer
	out  *measure
	line []byte
	rows int
}

// NewDataWriter starts a CSV data file written to w.
func NewDataWriter(w io.Writer) *DataWriter {
	out := newMeasure(w)
	return &DataWriter{gz: gzip.NewWriter(out), out: out}
}

// Write adds a row; the key (the second value) is URL-encoded, as S3's
// CSV reports have it.
func (d *DataWriter) Write(row []string) error {
	d.line = AppendCSV(d.line[:0], row)
	d.rows++
	_, err := d.gz.Write(d.line)
	return err
}

// Rows is how many rows were written.
func (d *DataWriter) Rows() int { return d.rows }

// Close ends the gzip stream and returns the file's manifest entry.
func (d *DataWriter) Close(key string) (File, error) {
	if err := d.gz.Close(); err != nil {
		return File{}, err
	}
	return d.out.file(key), nil
}

// Report is one delivery's layout in the destination bucket.
type Report struct {
	Source string    // source bucket
	Config *Config   // the configuration
	Start  time.Time // when the scan began
}

// Base is PREFIX/SOURCE/ID (no prefix: SOURCE/ID), under which every
// file of the configuration's reports is written.
func (r *Report) Base() string {
	b := r.Source + "/" + r.Config.ID
	if p := strings.TrimSuffix(r.Config.Destination.Prefix, "/"); p != "" {
		b = p + "/" + b
	}
	return b
}

// DataKey is the key of the data file named name (a UUID).
func (r *Report) DataKey(name string) string {
	if r.Config.Destination.Format == Parquet {
		return r.Base() + "/data/" + name + ".parquet"
	}
	return r.Base() + "/data/" + name + ".csv.gz"
}

// ManifestKey and ChecksumKey are PREFIX/SOURCE/ID/YYYY-MM-DDTHH-MMZ/
// manifest.json and manifest.checksum.
func (r *Report) ManifestKey() string {
	return r.Base() + "/" + r.Start.UTC().Format("2006-01-02T15-04Z") + "/manifest.json"
}

// ChecksumKey is the key of manifest.checksum.
func (r *Report) ChecksumKey() string {
	return r.Base() + "/" + r.Start.UTC().Format("2006-01-02T15-04Z") + "/manifest.checksum"
}

// SymlinkKey is the Hive symlink file: PREFIX/SOURCE/ID/hive/
// dt=YYYY-MM-DD-HH-MM/symlink.txt.
func (r *Report) SymlinkKey() string {
	return r.Base() + "/hive/dt=" + r.Start.UTC().Format("2006-01-02-15-04") + "/symlink.txt"
}

// Manifest is manifest.json.
type Manifest struct {
	SourceBucket      string `json:"sourceBucket"`
	DestinationBucket string `json:"destinationBucket"`
	Version           string `json:"version"`
	CreationTimestamp string `json:"creationTimestamp"`
	FileFormat        string `json:"fileFormat"`
	FileSchema        string `json:"fileSchema"`
	Files             []File `json:"files"`
}

// Manifest renders manifest.json for the data files, and its checksum
// file (the MD5 of manifest.json, hex).
func (r *Report) Manifest(files []File) (manifest, checksum []byte, err error) {
	m := Manifest{
		SourceBucket:      r.Source,
		DestinationBucket: "arn:aws:s3:::" + r.Config.Destination.Bucket,
		Version:           "2016-11-30",
		CreationTimestamp: strconv.FormatInt(r.Start.UnixMilli(), 10),
		FileFormat:        r.Config.Destination.Format,
		FileSchema:        r.Config.FileSchema(),
		Files:             files,
	}
	if m.Files == nil {
		m.Files = []File{}
	}
	manifest, err = json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	sum := md5.Sum(manifest)
	return manifest, []byte(hex.EncodeToString(sum[:])), nil
}

// Symlink is symlink.txt: the data files' s3:// locations, one a line.
func (r *Report) Symlink(files []File) []byte {
	var b strings.Builder
	for _, f := range files {
		b.WriteString("s3://" + r.Config.Destination.Bucket + "/" + f.Key + "\n")
	}
	return []byte(b.String())
}

// Shredded is the EncryptionStatus of a version whose KMS key was destroyed
// (crypto-shredded): its data can never be read again. S3 has no such
// value; it keeps the SSE-KMS prefix so that filters on SSE-KMS still
// match.
const Shredded = "SSE-KMS-SHREDDED"

// MarkShredded sets row's EncryptionStatus column (if the report has one)
// to Shredded.
func (c *Config) MarkShredded(row []string) {
	base := 2
	if c.AllVersions {
		base += 3
	}
	for i, f := range c.Fields {
		if f == FieldEncryptionStatus && base+i < len(row) {
			row[base+i] = Shredded
		}
	}
}
