package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms"
	"github.com/strongroom-dev/strongroom/internal/meta/bolt"
)

func TestReadiness(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	root := make([]byte, 32)
	keyring, err := kms.OpenKeyring(filepath.Join(dir, "keyring"), root)
	if err != nil {
		t.Fatal(err)
	}
	defer keyring.Close()
	m, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rd := &readiness{meta: m, kms: keyring, log: slog.New(slog.DiscardHandler)}
	probe := func() (int, map[string]string) {
		rd.checked = time.Time{} // skip the cache
		w := httptest.NewRecorder()
		rd.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/_strongroom/ready", nil))
		var body map[string]string
		json.Unmarshal(w.Body.Bytes(), &body)
		return w.Code, body
	}
	if code, body := probe(); code != http.StatusOK || body["status"] != "ready" {
		t.Fatalf("ready: %d %v", code, body)
	}
	// The answer is cached for a moment: a probe storm costs one check.
	m.Close()
	w := httptest.NewRecorder()
	rd.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/_strongroom/ready", nil))
	if w.Code != http.StatusOK {
		t.Errorf("a probe within the cache time checked again: %d", w.Code)
	}
	code, body := probe()
	if code != http.StatusServiceUnavailable || !strings.Contains(body["reason"], "metadata store") {
		t.Errorf("metadata closed: %d %v, want 503 naming the metadata store", code, body)
	}
	if strings.Contains(body["reason"], dir) {
		t.Errorf("the unauthenticated probe reveals a path: %v", body)
	}
	m2, err := bolt.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	rd.meta = m2
	if _, err := keyring.DisableKey(ctx, kms.DefaultKeyName); err != nil {
		t.Fatal(err)
	}
	if code, body := probe(); code != http.StatusServiceUnavailable || !strings.Contains(body["reason"], "disabled") {
		t.Errorf("default key disabled: %d %v", code, body)
	}
	keyring.Close()
	if code, body := probe(); code != http.StatusServiceUnavailable || !strings.Contains(body["reason"], "key provider") {
		t.Errorf("keyring closed: %d %v", code, body)
	}
}
