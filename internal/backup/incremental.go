package backup

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Base is what an increment needs of the archive it builds on: its ID and
// the blobs its metadata referenced (which the chain up to it restores).
type Base struct {
	ID    string
	Blobs map[string]struct{}
}

func (b *Base) has(id string) bool {
	if b == nil {
		return false
	}
	_, ok := b.Blobs[id]
	return ok
}

// ErrIncrement: an increment restored alone (it needs its base archives).
var ErrIncrement = errors.New("backup: the archive is an increment: restore it together with its base archives")

func newArchiveID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// readRefs reads blob-refs.txt (into a set when keep).
func readRefs(r io.Reader, keep bool) (map[string]struct{}, error) {
	refs := map[string]struct{}{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if keep {
			refs[sc.Text()] = struct{}{}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("backup: %s: %w", refsName, err)
	}
	return refs, nil
}

// ReadBase reads what an increment over the archive r needs, and checks
// that archive is complete. Given a file, it seeks over the blobs' data
// rather than reading it.
func ReadBase(r io.Reader) (*Base, error) {
	a, err := read(context.Background(), r, nil, readOpts{refs: true, skipBody: true})
	if err != nil {
		return nil, err
	}
	return &Base{ID: a.header.ID, Blobs: a.refs}, nil
}

// ReadHeader reads an archive's header (its first entry) only.
func ReadHeader(r io.Reader) (*Header, error) {
	var h Header
	tr := tar.NewReader(r)
	e, err := tr.Next()
	if err != nil || e.Name != headerName {
		return nil, fmt.Errorf("backup: not a strongroom backup (no %s first)", headerName)
	}
	if err := json.NewDecoder(io.LimitReader(tr, 1<<16)).Decode(&h); err != nil || (h.Format != Format && h.Format != formatV1) {
		return nil, fmt.Errorf("backup: unknown archive format %q", h.Format)
	}
	return &h, nil
}

// OrderChain orders the headers of a chain of archives, given in any
// order: it returns their indexes from the newest increment (the one no
// other builds on) down to the full archive. Every archive must belong to
// the one chain.
func OrderChain(hs []*Header) ([]int, error) {
	byID := map[string]int{}
	based := map[string]bool{}
	for i, h := range hs {
		if h.ID == "" {
			return nil, fmt.Errorf("backup: archive %d (format %s) has no ID: it cannot be part of a chain", i+1, h.Format)
		}
		if _, dup := byID[h.ID]; dup {
			return nil, fmt.Errorf("backup: archive %s given twice", h.ID)
		}
		byID[h.ID] = i
		if h.Base != "" {
			if based[h.Base] {
				return nil, fmt.Errorf("backup: two archives build on %s: not one chain", h.Base)
			}
			based[h.Base] = true
		}
	}
	for _, h := range hs {
		if _, ok := byID[h.Base]; h.Base != "" && !ok {
			return nil, fmt.Errorf("%w: archive %s builds on %s, which was not given", ErrIncrement, h.ID, h.Base)
		}
	}
	tip := -1
	for i, h := range hs {
		if !based[h.ID] {
			if tip >= 0 {
				return nil, errors.New("backup: the archives are not one chain (two have no increment over them)")
			}
			tip = i
		}
	}
	var order []int
	for i := tip; i >= 0; {
		order = append(order, i)
		b := hs[i].Base
		if b == "" {
			break
		}
		i = byID[b]
	}
	if len(order) != len(hs) {
		return nil, errors.New("backup: the archives are not one chain")
	}
	return order, nil
}

// RestoreChain restores a chain of archives into t: rs from the newest
// increment down to the full archive (see OrderChain). The newest gives
// the metadata and sealed files; each blob its metadata references comes
// from whichever archive holds it. Each archive is checked whole, each
// must be the base its successor names, and the last must be full.
func RestoreChain(ctx context.Context, rs []io.Reader, t *Target) (*Stats, error) {
	if len(rs) == 0 {
		return nil, errors.New("backup: no archive to restore")
	}
	tip, err := read(ctx, rs[0], t, readOpts{refs: len(rs) > 1})
	if err != nil {
		return nil, err
	}
	st := tip.stats
	base := tip.header.Base
	for _, r := range rs[1:] {
		a, err := read(ctx, r, t, readOpts{baseOnly: true, want: tip.refs})
		if err != nil {
			return nil, err
		}
		if a.header.ID != base {
			return nil, fmt.Errorf("backup: the chain needs archive %s next, got %s", base, a.header.ID)
		}
		st.Blobs += a.stats.Blobs
		st.BlobBytes += a.stats.BlobBytes
		base = a.header.Base
		for id := range a.restored {
			tip.restored[id] = struct{}{}
		}
	}
	if base != "" {
		return nil, fmt.Errorf("%w: archive %s is missing", ErrIncrement, base)
	}
	if tip.refs != nil {
		if err := missing(tip.refs, tip.restored); err != nil {
			return nil, err
		}
	}
	st.Skipped = 0
	return st, nil
}

// ParseBase reads a Base sent as text: its ID on the first line, then one
// blob ID a line (what WriteBase writes, for the admin API).
func ParseBase(r io.Reader) (*Base, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() || strings.TrimSpace(sc.Text()) == "" {
		return nil, errors.New("backup: no base archive ID")
	}
	b := &Base{ID: strings.TrimSpace(sc.Text()), Blobs: map[string]struct{}{}}
	for sc.Scan() {
		if id := sc.Text(); id != "" {
			b.Blobs[id] = struct{}{}
		}
	}
	return b, sc.Err()
}

// WriteBase writes b as ParseBase reads it.
func WriteBase(w io.Writer, b *Base) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, b.ID)
	for id := range b.Blobs {
		fmt.Fprintln(bw, id)
	}
	return bw.Flush()
}
