package main

import (
	"flag"

	"strongroom/internal/server"
)

// bindKMSFlags defines the key provider's flags (serve and the key
// commands) onto c, defaulting to the values it holds. The PKCS#11 PIN is
// never a flag's value: a file, or $STRONGROOM_PKCS11_PIN.
func bindKMSFlags(fs *flag.FlagSet, c *server.KMSConfig) {
	if c.Provider == "" {
		c.Provider = server.KMSBuiltin
	}
	fs.StringVar(&c.Provider, "kms", c.Provider, "key provider: builtin (the keyring in the data directory) or pkcs11 (an HSM)")
	fs.StringVar(&c.PKCS11Module, "pkcs11-module", c.PKCS11Module, "PKCS#11 module (shared library) of the HSM, with --kms pkcs11")
	fs.StringVar(&c.PKCS11Token, "pkcs11-token", c.PKCS11Token, "label of the HSM token holding the keys, with --kms pkcs11")
	fs.StringVar(&c.PKCS11PINFile, "pkcs11-pin-file", c.PKCS11PINFile, "file holding the token's user PIN (default: $STRONGROOM_PKCS11_PIN)")
	fs.IntVar(&c.PKCS11Sessions, "pkcs11-sessions", c.PKCS11Sessions, "PKCS#11 sessions kept open (default 2 x CPUs, at least 4)")
}
