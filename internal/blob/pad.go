package blob

import (
	"crypto/rand"
	"fmt"
	"io"
)

// PadQuantum is the size granularity a padding store (a remote data tier:
// S3, a shared directory) stores blobs at: every blob is rounded up to a
// multiple of it, so the tier learns a part's size only to within one
// segment of the sealed format (64 KiB by default), not to the byte.
//
// Readers never see the padding: every part's stored size is in its
// metadata (meta.Part.StoredSize), and the sealed and plain readers read
// only that much. A padding store's Reader.Size is the padded size.
const PadQuantum = 64 << 10

// Padding is how many bytes round n up to a multiple of quantum (0 when
// quantum is 0 or less: no padding).
func Padding(n, quantum int64) int64 {
	if quantum <= 0 || n%quantum == 0 {
		return 0
	}
	return quantum - n%quantum
}

// WritePadding writes the Padding(n, quantum) bytes that follow a blob of
// n bytes. They are random, not zeros: zeros would show the tier where
// the ciphertext ends.
func WritePadding(w io.Writer, n, quantum int64) error {
	p := Padding(n, quantum)
	if p == 0 {
		return nil
	}
	if _, err := io.CopyN(w, rand.Reader, p); err != nil {
		return fmt.Errorf("blob: padding: %w", err)
	}
	return nil
}
