// Package pgtest runs a private PostgreSQL instance for tests: initdb into
// a temporary directory, the server on 127.0.0.1 at a free port with its
// unix socket in that directory, as a non-root user (PostgreSQL refuses to
// run as root, and CI runs tests as root). Each test gets a fresh database.
//
// A test package starts one instance from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and each test asks for a database with DB(t). Missing binaries fail the
// tests: CI installs Debian's postgresql package (scripts/test.sh).
package pgtest

import (
	"context"
	"sync"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/meta/postgres/pgserver"
)

// Server is one running PostgreSQL instance (pgserver.Server).
type Server = pgserver.Server

// BinDir finds the PostgreSQL server binaries (pgserver.BinDir).
func BinDir() (string, error) { return pgserver.BinDir() }

// Start initialises and starts a new instance (pgserver.Start).
func Start() (*Server, error) { return pgserver.Start() }

// shared is the package's instance, started by Main.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Main starts the test package's instance, runs the tests and stops it.
// If PostgreSQL cannot start, every test fails (DB reports why).
func Main(m *testing.M) int {
	defer func() {
		if shared.srv != nil {
			shared.srv.Close()
		}
	}()
	return m.Run()
}

// Shared is the test package's instance, started on first use (stopped by
// Main at the end).
func Shared(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() { shared.srv, shared.err = Start() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

// DB returns the URL of a fresh database on the shared instance.
func DB(t testing.TB) string {
	t.Helper()
	srv := Shared(t)
	url, err := srv.NewDB(context.Background(), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// New starts a private instance for one test (for packages without a
// TestMain of their own), closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}
