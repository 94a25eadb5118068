package main

import (
	"flag"

	"strongroom/internal/server"
)

// bindKMSFlags defines the key provider flags (serve and key commands
// share them; the config file's keys have the same names).
func bindKMSFlags(fs *flag.FlagSet, c *server.KMSConfig) {
	fs.StringVar(&c.KMS, "kms", c.KMS, "key provider: builtin (default; the keyring in the data directory) or kmip")
	fs.StringVar(&c.KMIPAddr, "kmip-addr", c.KMIPAddr, "KMIP server HOST:PORT (--kms kmip)")
	fs.StringVar(&c.KMIPCert, "kmip-cert", c.KMIPCert, "client certificate (PEM) for mutual TLS with the KMIP server")
	fs.StringVar(&c.KMIPKey, "kmip-key", c.KMIPKey, "private key (PEM) of --kmip-cert")
	fs.StringVar(&c.KMIPCA, "kmip-ca", c.KMIPCA, "CA certificate(s) (PEM) that sign the KMIP server's certificate")
	fs.DurationVar(&c.KMIPStateTTL, "kmip-state-ttl", c.KMIPStateTTL, "how long an external KMS's key state is trusted without asking (default 30s)")
}

// kmsServeArgs turns key provider settings back into serve flags (for the
// bench's child server), one token each.
func kmsServeArgs(c server.KMSConfig) []string {
	var args []string
	for _, f := range []struct{ name, v string }{
		{"kms", c.KMS}, {"kmip-addr", c.KMIPAddr}, {"kmip-cert", c.KMIPCert}, {"kmip-key", c.KMIPKey}, {"kmip-ca", c.KMIPCA},
	} {
		if f.v != "" {
			args = append(args, "--"+f.name+"="+f.v)
		}
	}
	if c.KMIPStateTTL != 0 {
		args = append(args, "--kmip-state-ttl="+c.KMIPStateTTL.String())
	}
	return args
}
