package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strongroom-dev/strongroom/internal/blob"
)

// maxParts is S3's limit on the parts of one upload.
const maxParts = 10000

var errClosed = errors.New("blob/s3: writer is closed")

// bufPools hold part buffers, one pool per part size in use.
var bufPools sync.Map // int64 -> *sync.Pool

func (s *Store) getBuf() *[]byte {
	p, _ := bufPools.LoadOrStore(s.partSize, &sync.Pool{})
	if b, ok := p.(*sync.Pool).Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, s.partSize)
	return &b
}

func (s *Store) putBuf(b *[]byte) {
	*b = (*b)[:0]
	p, _ := bufPools.Load(s.partSize)
	p.(*sync.Pool).Put(b)
}

// writer writes one blob: buffered up to one part, then as a multipart
// upload whose full parts are sent on a second goroutine while the caller
// fills the next. After an error, Commit or Abort it is closed and what it
// sent is gone (the upload aborted).
type writer struct {
	s   *Store
	ctx context.Context // Create's: bounds the part uploads
	id  string
	buf *[]byte // being filled; nil once released
	// spare is the other buffer: owned by the part upload in flight, if
	// any (inFlight not nil).
	spare    *[]byte
	inFlight chan error
	uploadID *string // nil until the blob outgrows one part
	parts    []types.CompletedPart
	size     int64 // bytes written
	err      error // sticky: the first error, or errClosed
}

func (w *writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for n < len(p) {
		// A full buffer is sent only once more bytes arrive: a blob of
		// exactly one part stays a single PutObject.
		if int64(len(*w.buf)) == w.s.partSize {
			if err := w.sendAsync(); err != nil {
				w.fail(err)
				return n, w.err
			}
		}
		b := *w.buf
		c := min(len(p)-n, cap(b)-len(b))
		*w.buf = append(b, p[n:n+c]...)
		n += c
		w.size += int64(c)
	}
	return n, nil
}

// sendAsync starts the upload of the full buffer as the next part,
// starting the multipart upload first if this is the first part, once the
// previous part is sent.
func (w *writer) sendAsync() error {
	if err := w.wait(); err != nil {
		return err
	}
	if w.uploadID == nil {
		key := w.s.key(w.id)
		out, err := w.s.c.CreateMultipartUpload(w.ctx, &awss3.CreateMultipartUploadInput{Bucket: &w.s.bucket, Key: &key})
		if err != nil {
			return w.s.fail("create", w.id, err)
		}
		w.uploadID = out.UploadId
	}
	if len(w.parts) == maxParts-1 {
		return fmt.Errorf("blob/s3: blob %s: more than %d parts of %d bytes", w.id, maxParts, w.s.partSize)
	}
	if w.spare == nil {
		w.spare = w.s.getBuf()
	}
	full := w.buf
	w.buf, w.spare = w.spare, w.buf
	*w.buf = (*w.buf)[:0]
	n := int32(len(w.parts) + 1)
	w.parts = append(w.parts, types.CompletedPart{PartNumber: aws.Int32(n)})
	w.inFlight = make(chan error, 1)
	go func(done chan<- error) { done <- w.sendPart(w.ctx, n, *full) }(w.inFlight)
	return nil
}

// sendPart uploads part n and records its ETag.
func (w *writer) sendPart(ctx context.Context, n int32, data []byte) error {
	key := w.s.key(w.id)
	out, err := w.s.c.UploadPart(ctx, &awss3.UploadPartInput{
		Bucket: &w.s.bucket, Key: &key, UploadId: w.uploadID, PartNumber: aws.Int32(n),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return w.s.fail("write", w.id, err)
	}
	w.parts[n-1].ETag = out.ETag
	return nil
}

// wait waits for the part upload in flight, if any.
func (w *writer) wait() error {
	if w.inFlight == nil {
		return nil
	}
	err := <-w.inFlight
	w.inFlight = nil
	return err
}

// release waits for any upload in flight and returns the buffers.
func (w *writer) release() {
	w.wait()
	for _, b := range []**[]byte{&w.buf, &w.spare} {
		if *b != nil {
			w.s.putBuf(*b)
			*b = nil
		}
	}
}

// fail records err, releases the buffers and aborts the upload.
func (w *writer) fail(err error) {
	w.err = err
	w.release()
	if w.uploadID != nil {
		w.s.abortUpload(w.s.key(w.id), w.uploadID)
	}
}

// Commit implements blob.Writer: the object appears, whole, when the
// PutObject or CompleteMultipartUpload that ends it succeeds.
func (w *writer) Commit(ctx context.Context) (string, error) {
	if w.err != nil {
		return "", w.err
	}
	if err := ctx.Err(); err != nil {
		w.fail(errClosed)
		return "", err
	}
	if err := blob.WritePadding(w, w.size, w.s.pad); err != nil {
		w.fail(errClosed)
		return "", err
	}
	if err := w.commit(ctx); err != nil {
		w.fail(errClosed)
		return "", err
	}
	w.err = errClosed
	return w.id, nil
}

func (w *writer) commit(ctx context.Context) error {
	key := w.s.key(w.id)
	if w.uploadID == nil {
		data := *w.buf
		_, err := w.s.c.PutObject(ctx, &awss3.PutObjectInput{
			Bucket: &w.s.bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		})
		w.release()
		if err != nil {
			return w.s.fail("commit", w.id, err)
		}
		return nil
	}
	if err := w.wait(); err != nil {
		return err
	}
	if len(*w.buf) > 0 {
		n := int32(len(w.parts) + 1)
		w.parts = append(w.parts, types.CompletedPart{PartNumber: aws.Int32(n)})
		if err := w.sendPart(ctx, n, *w.buf); err != nil {
			return err
		}
	}
	w.release()
	if _, err := w.s.c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: &w.s.bucket, Key: &key, UploadId: w.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	}); err != nil {
		return w.s.fail("commit", w.id, err)
	}
	w.uploadID = nil // complete: nothing to abort
	return nil
}

// Abort implements blob.Writer.
func (w *writer) Abort() error {
	if w.err != nil {
		return nil
	}
	w.err = errClosed
	w.release()
	if w.uploadID == nil {
		return nil
	}
	if err := w.s.abortUpload(w.s.key(w.id), w.uploadID); err != nil {
		return w.s.fail("abort", w.id, err)
	}
	return nil
}
