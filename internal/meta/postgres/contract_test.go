package postgres

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/meta/metatest"
	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var ctx = context.Background()

// migrated is a database migrated once, the template of the tests' ones
// (a migration per test would double the time a fresh database takes).
var migrated struct {
	once sync.Once
	name string
	err  error
}

// openTest opens a store on a fresh database, closed at the test's end.
func openTest(t testing.TB) (*Store, string) {
	t.Helper()
	srv := pgtest.Shared(t)
	migrated.once.Do(func() {
		url, err := srv.NewDB(ctx, "migrated")
		if err != nil {
			migrated.err = err
			return
		}
		s, err := Open(ctx, url)
		if err != nil {
			migrated.err = err
			return
		}
		s.Close()
		migrated.name = url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	})
	if migrated.err != nil {
		t.Fatal(migrated.err)
	}
	url, err := srv.NewDBFrom(ctx, t.Name(), migrated.name)
	if err != nil {
		t.Fatal(err)
	}
	return openURL(t, url), url
}

func openURL(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestContract runs the store contract (internal/meta/metatest) on
// PostgreSQL.
func TestContract(t *testing.T) {
	var mu sync.Mutex
	urls := map[meta.Store]string{}
	metatest.Run(t, metatest.Backend{
		Open: func(t testing.TB) meta.Store {
			s, url := openTest(t)
			mu.Lock()
			urls[s] = url
			mu.Unlock()
			return s
		},
		Reopen: func(t testing.TB, s meta.Store) meta.Store {
			mu.Lock()
			url := urls[s]
			mu.Unlock()
			s.Close()
			return openURL(t, url)
		},
	})
}
