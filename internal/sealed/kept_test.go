package sealed

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
)

// openKept opens blob with NewReaderKept and reads it whole, reporting
// whether the part key was asked for.
func openKept(t *testing.T, blob []byte, kept *BlobKey, partKey []byte) (pt []byte, r *Reader, derived bool, err error) {
	t.Helper()
	r, err = NewReaderKept(bytes.NewReader(blob), int64(len(blob)), kept, func() []byte {
		derived = true
		return partKey
	})
	if err != nil {
		return nil, nil, derived, err
	}
	pt, err = io.ReadAll(r.NewRangeReader(0, r.Size()))
	return pt, r, derived, err
}

func TestNewReaderKept(t *testing.T) {
	for _, alg := range []Algorithm{AES256GCM, SM4GCM} {
		t.Run(alg.String(), func(t *testing.T) {
			key, other := testKey(alg, 1), testKey(alg, 2)
			pt := pattern(5000, 1)
			blob := seal(t, alg, key, 1024, pt, 0)
			again := seal(t, alg, key, 1024, pt, 0) // same part key, another salt
			_, first, derived, err := openKept(t, blob, nil, key)
			if err != nil || !derived {
				t.Fatalf("no kept key: err %v, derived %v", err, derived)
			}
			kept := first.Key()
			if kept == nil {
				t.Fatal("a sealed Reader has no key")
			}

			got, r, derived, err := openKept(t, blob, kept, key)
			if err != nil || derived || !bytes.Equal(got, pt) || r.Key() != kept {
				t.Fatalf("kept key of this blob: err %v, derived %v, same bytes %v", err, derived, bytes.Equal(got, pt))
			}
			// The kept key opens without the part key at all.
			if _, _, _, err := openKept(t, blob, kept, nil); err != nil {
				t.Fatalf("kept key, no part key: %v", err)
			}

			// Another blob's key is not used: the key is derived again.
			got, r, derived, err = openKept(t, again, kept, key)
			if err != nil || !derived || !bytes.Equal(got, pt) || r.Key() == kept {
				t.Fatalf("kept key of another blob: err %v, derived %v", err, derived)
			}
			if _, _, _, err := openKept(t, again, kept, other); !errors.Is(err, ErrAuth) {
				t.Fatalf("kept key of another blob, wrong part key: %v, want ErrAuth", err)
			}

			// A header changed under a kept key no longer matches it; the
			// derived key fails.
			bad := bytes.Clone(blob)
			bad[20] ^= 1 // in the salt
			if _, _, derived, err := openKept(t, bad, kept, key); !errors.Is(err, ErrAuth) || !derived {
				t.Fatalf("changed salt: err %v, derived %v, want ErrAuth after deriving", err, derived)
			}
			// Another blob's header on this blob's segments fails too.
			spliced := append(bytes.Clone(again[:HeaderSize]), blob[HeaderSize:]...)
			if _, _, _, err := openKept(t, spliced, kept, key); !errors.Is(err, ErrAuth) {
				t.Fatalf("spliced header: %v, want ErrAuth", err)
			}
			// And the kept key of this blob opens nothing of another's body.
			spliced = append(bytes.Clone(blob[:HeaderSize]), again[HeaderSize:]...)
			if _, _, derived, err := openKept(t, spliced, kept, key); !errors.Is(err, ErrAuth) || derived {
				t.Fatalf("this header on another body: err %v, derived %v, want ErrAuth with the kept key", err, derived)
			}
		})
	}
}

// TestBlobKeyShared: one BlobKey serves Readers in many goroutines at
// once (run under -race, this checks that opening changes no shared state).
func TestBlobKeyShared(t *testing.T) {
	for _, alg := range []Algorithm{AES256GCM, SM4GCM} {
		t.Run(alg.String(), func(t *testing.T) {
			key := testKey(alg, 3)
			pt := pattern(4096, 2)
			blob := seal(t, alg, key, 0, pt, 0)
			_, first, _, err := openKept(t, blob, nil, key)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for range 200 {
						r, err := NewReaderKept(bytes.NewReader(blob), int64(len(blob)), first.Key(), nil)
						if err != nil {
							t.Error(err)
							return
						}
						got, err := io.ReadAll(r.NewRangeReader(0, r.Size()))
						if err != nil || !bytes.Equal(got, pt) {
							t.Errorf("shared key: err %v, same bytes %v", err, bytes.Equal(got, pt))
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}
