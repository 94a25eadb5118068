package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/audit"
	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// flakyRetirer is the builtin keyring behind a provider that can be
// unreachable, or fail to retire one version.
type flakyRetirer struct {
	*kms.Keyring
	down   bool
	failAt uint32
}

func (f *flakyRetirer) DescribeKey(ctx context.Context, id string) (kms.KeyInfo, error) {
	if f.down {
		return kms.KeyInfo{}, kms.ErrUnavailable.WithMessage("The HSM cannot be reached.")
	}
	return f.Keyring.DescribeKey(ctx, id)
}

func (f *flakyRetirer) RetireKeyVersion(ctx context.Context, id string, v uint32) error {
	if v == f.failAt {
		return kms.ErrUnavailable.WithMessage("The HSM went away.")
	}
	return f.Keyring.RetireKeyVersion(ctx, id, v)
}

// TestKeyRetireAnswers: POST keys/retire answers 404 for a key or version
// that does not exist, 503 (with Retry-After) when the provider cannot be
// reached, 400 for the newest version; a retire that fails half-way says
// which versions it retired, in its answer and one audit line each.
func TestKeyRetireAnswers(t *testing.T) {
	ctx := context.Background()
	k, m := keyringAndStore(t)
	info, err := k.CreateKey(ctx, "aging")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := k.RotateKey(ctx, info.ID); err != nil {
			t.Fatal(err)
		}
	}
	f := &flakyRetirer{Keyring: k}
	var lines bytes.Buffer
	a := &admin{keyring: f, meta: m, mux: http.NewServeMux(), audit: audit.NewWriter(&lines)}
	a.withKeyRetire(service.New(m, nil, service.Options{}), nil, KMSBuiltin)
	retire := func(q url.Values) (int, string, http.Header) {
		w := httptest.NewRecorder()
		a.mux.ServeHTTP(w, httptest.NewRequest(http.MethodPost, AdminPrefix+"keys/retire?"+q.Encode(), nil))
		return w.Code, w.Body.String(), w.Header()
	}
	for _, c := range []struct {
		name   string
		q      url.Values
		down   bool
		status int
	}{
		{"unknown key", url.Values{"name": {"alias/nothing"}, "version": {"1"}}, false, http.StatusNotFound},
		{"unknown version", url.Values{"name": {"alias/aging"}, "version": {"9"}}, false, http.StatusNotFound},
		{"newest version", url.Values{"name": {"alias/aging"}, "version": {"3"}}, false, http.StatusBadRequest},
		{"provider down", url.Values{"name": {"alias/aging"}, "version": {"1"}}, true, http.StatusServiceUnavailable},
	} {
		f.down = c.down
		st, body, h := retire(c.q)
		if st != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, st, body, c.status)
		}
		if st == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", c.name)
		}
	}
	f.down = false

	// Half-way: version 1 goes, version 2 fails.
	f.failAt = 2
	lines.Reset()
	st, body, _ := retire(url.Values{"name": {"alias/aging"}, "below": {"3"}})
	if st != http.StatusServiceUnavailable || !strings.Contains(body, "retired before the failure: version(s) [1]") {
		t.Errorf("half-way failure: %d %s", st, body)
	}
	if got, err := k.DescribeKey(ctx, info.ID); err != nil || !slices.Equal(got.Retired, []uint32{1}) {
		t.Fatalf("retired in the keyring: %+v %v", got.Retired, err)
	}
	log := lines.String()
	if !strings.Contains(log, `"retire version 1"`) || strings.Contains(log, `"retire version 2"`) {
		t.Errorf("audit lines after the half-way failure lack version 1 (or claim 2):\n%s", log)
	}
	// Retried once the provider is back: the rest goes.
	f.failAt = 0
	if st, body, _ := retire(url.Values{"name": {"alias/aging"}, "below": {"3"}}); st != http.StatusOK || !strings.Contains(body, `"Retired":[2]`) {
		t.Errorf("retry: %d %s", st, body)
	}
}

// failingInvalidations is a shared store whose announcements fail.
type failingInvalidations struct {
	meta.Store
}

func (failingInvalidations) Subscribe(ctx context.Context, _ func(meta.Invalidation)) error {
	<-ctx.Done()
	return ctx.Err()
}

func (failingInvalidations) Invalidate(context.Context, meta.Invalidation) error {
	return errors.New("the database is gone")
}

// TestAnnounceKeyChangeWithoutLogger: the admin API and the key commands
// announce a key change with no logger of their own; a failed
// announcement (other nodes keep the key until --kms-cache-ttl) is still
// logged, not dropped.
func TestAnnounceKeyChangeWithoutLogger(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	announceKeyChange(context.Background(), failingInvalidations{}, "alias/aging", nil)
	if !strings.Contains(buf.String(), "announcing a key change") || !strings.Contains(buf.String(), "the database is gone") {
		t.Errorf("the failed announcement was not logged: %q", buf.String())
	}
}

// keyringAndStore opens a builtin keyring and a bbolt metadata store in a
// temporary directory, closed when the test ends.
func keyringAndStore(t *testing.T) (*kms.Keyring, *bolt.Store) {
	t.Helper()
	dir := t.TempDir()
	root := make([]byte, 32)
	rand.Read(root)
	k, err := kms.OpenKeyring(filepath.Join(dir, "keyring"), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	m, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return k, m
}
