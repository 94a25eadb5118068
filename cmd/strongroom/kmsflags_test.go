package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strongroom-dev/strongroom/internal/server"
)

// TestKMSConfig: the key provider's settings come from the config file's
// keys and from flags of the same names, flags winning; builtin by default.
func TestKMSConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "strongroom.yaml")
	os.WriteFile(file, []byte("kms: pkcs11\npkcs11-module: /lib/m.so\npkcs11-token: from-file\npkcs11-pin-file: /etc/pin\npkcs11-sessions: 9\n"), 0o600)
	kmipFile := filepath.Join(t.TempDir(), "kmip.yaml")
	os.WriteFile(kmipFile, []byte("kms: kmip\nkmip-addr: 127.0.0.1:5696\nkmip-cert: /c.pem\nkmip-key: /k.pem\nkmip-ca: /ca.pem\nkmip-state-ttl: 5s\n"), 0o600)
	kmip := server.KMSConfig{KMS: "kmip", KMIPAddr: "127.0.0.1:5696", KMIPCert: "/c.pem", KMIPKey: "/k.pem", KMIPCA: "/ca.pem", KMIPStateTTL: 5 * time.Second}
	for _, tc := range []struct {
		args []string
		want server.KMSConfig
	}{
		{nil, server.KMSConfig{KMS: server.KMSBuiltin}},
		{[]string{"--config", file}, server.KMSConfig{KMS: "pkcs11", PKCS11Module: "/lib/m.so", PKCS11Token: "from-file", PKCS11PINFile: "/etc/pin", PKCS11Sessions: 9}},
		{[]string{"--config", file, "--pkcs11-token", "from-flag", "--kms", "pkcs11"}, server.KMSConfig{KMS: "pkcs11", PKCS11Module: "/lib/m.so", PKCS11Token: "from-flag", PKCS11PINFile: "/etc/pin", PKCS11Sessions: 9}},
		{[]string{"--config", kmipFile}, kmip},
		{[]string{"--kms", "kmip", "--kmip-addr", "127.0.0.1:5696", "--kmip-cert", "/c.pem", "--kmip-key", "/k.pem", "--kmip-ca", "/ca.pem", "--kmip-state-ttl", "5s"}, kmip},
	} {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfg, err := loadConfig(fs, tc.args)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if cfg.KMSConfig != tc.want {
			t.Errorf("%v: KMS = %+v, want %+v", tc.args, cfg.KMSConfig, tc.want)
		}
	}
	// No flag takes the PIN itself.
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	bindServeFlags(fs, new(server.Config))
	for _, name := range []string{"pkcs11-pin", "pin"} {
		if fs.Lookup(name) != nil {
			t.Errorf("flag --%s exists: a PIN must not be a flag's value", name)
		}
	}
}
