package main

import (
	"strings"
	"testing"
)

// TestServerURLWithoutServer: a command that asks the server, on a data
// directory no server is serving, says to start one (not that the
// directory is in use).
func TestServerURLWithoutServer(t *testing.T) {
	d := &deployment{data: t.TempDir()}
	_, err := d.serverURL()
	if err == nil || !strings.Contains(err.Error(), "start strongroom serve") || strings.Contains(err.Error(), "in use") {
		t.Fatalf("serverURL without a server: %v", err)
	}
}
