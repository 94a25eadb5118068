package main

import (
	"flag"
	"fmt"
	"io"
	"net"

	"github.com/strongroom-dev/strongroom/internal/server"
)

// consoleListener is the operator console's key among the listeners
// listenAll binds (dialect names and "" are the others).
const consoleListener = "console"

// bindConsoleFlags defines the operator console's flag.
func bindConsoleFlags(fs *flag.FlagSet, cfg *server.Config) {
	fs.StringVar(&cfg.ConsoleAddr, "console-addr", cfg.ConsoleAddr, "serve the operator console (a web UI for the root account) on this `ADDR`, with the server's TLS if it has any (default: off)")
}

// printConsoleBanner names the console's address, if it listens.
func printConsoleBanner(w io.Writer, scheme string, ln net.Listener) {
	if ln != nil {
		fmt.Fprintf(w, "  operator console: %s://%s\n", scheme, ln.Addr())
	}
}
