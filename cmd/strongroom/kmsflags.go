package main

import (
	"flag"
	"strconv"

	"github.com/strongroom-dev/strongroom/internal/server"
)

// bindKMSFlags defines the key provider's flags (serve, and the key, user
// and remote commands) onto c, defaulting to the values it holds; the
// config file's keys have the same names. The PKCS#11 PIN is never a
// flag's value: a file, or $STRONGROOM_PKCS11_PIN.
func bindKMSFlags(fs *flag.FlagSet, c *server.KMSConfig) {
	if c.KMS == "" {
		c.KMS = server.KMSBuiltin
	}
	fs.StringVar(&c.KMS, "kms", c.KMS, "key provider: builtin (the keyring in the data directory), pkcs11 (an HSM) or kmip (a KMIP server)")
	fs.StringVar(&c.PKCS11Module, "pkcs11-module", c.PKCS11Module, "PKCS#11 module (shared library) of the HSM, with --kms pkcs11")
	fs.StringVar(&c.PKCS11Token, "pkcs11-token", c.PKCS11Token, "label of the HSM token holding the keys, with --kms pkcs11")
	fs.StringVar(&c.PKCS11PINFile, "pkcs11-pin-file", c.PKCS11PINFile, "file holding the token's user PIN (default: $STRONGROOM_PKCS11_PIN)")
	fs.IntVar(&c.PKCS11Sessions, "pkcs11-sessions", c.PKCS11Sessions, "PKCS#11 sessions kept open (default 2 x CPUs, at least 4)")
	fs.StringVar(&c.KMIPAddr, "kmip-addr", c.KMIPAddr, "KMIP server HOST:PORT, with --kms kmip")
	fs.StringVar(&c.KMIPCert, "kmip-cert", c.KMIPCert, "client certificate (PEM) for mutual TLS with the KMIP server")
	fs.StringVar(&c.KMIPKey, "kmip-key", c.KMIPKey, "private key (PEM) of --kmip-cert")
	fs.StringVar(&c.KMIPCA, "kmip-ca", c.KMIPCA, "CA certificate(s) (PEM) that sign the KMIP server's certificate")
	fs.DurationVar(&c.KMIPStateTTL, "kmip-state-ttl", c.KMIPStateTTL, "how long the KMIP server's key state is trusted without asking (default 30s)")
}

// kmsServeArgs turns key provider settings back into serve flags (for the
// bench's child server), one token each.
func kmsServeArgs(c server.KMSConfig) []string {
	var args []string
	for _, f := range []struct{ name, v string }{
		{"kms", c.KMS},
		{"pkcs11-module", c.PKCS11Module}, {"pkcs11-token", c.PKCS11Token}, {"pkcs11-pin-file", c.PKCS11PINFile},
		{"kmip-addr", c.KMIPAddr}, {"kmip-cert", c.KMIPCert}, {"kmip-key", c.KMIPKey}, {"kmip-ca", c.KMIPCA},
	} {
		if f.v != "" {
			args = append(args, "--"+f.name+"="+f.v)
		}
	}
	if c.PKCS11Sessions != 0 {
		args = append(args, "--pkcs11-sessions="+strconv.Itoa(c.PKCS11Sessions))
	}
	if c.KMIPStateTTL != 0 {
		args = append(args, "--kmip-state-ttl="+c.KMIPStateTTL.String())
	}
	return args
}
