package server

import (
	"net"
	"net/http"

	"github.com/strongroom-dev/strongroom/internal/console"
)

// consoleDenials is how many recent refusals the console can show.
const consoleDenials = 200

// ConsoleHandler is the operator console (internal/console) of the node.
func (n *Node) ConsoleHandler() (http.Handler, error) {
	return console.New(console.Config{
		Service: n.Service,
		IAM:     n.IAM,
		Meta:    n.meta,
		Keys:    n.Keys,
		Jobs:    n.Jobs,
		Denials: n.obs.denials,
		Audit:   n.obs.audit,
		Logger:  n.log,
		TLS:     n.cfg.TLSCert != "",
	})
}

// ServeConsole serves the operator console on ln until Close, with the
// main listener's TLS certificate when the node has one.
func (n *Node) ServeConsole(ln net.Listener) error {
	h, err := n.ConsoleHandler()
	if err != nil {
		ln.Close()
		return err
	}
	return n.serve(ln, h, false)
}
