package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// finishMigration calls POST keys/migrate/finish with the old provider
// (`key migrate --finish --from SPEC`) and prints each key destroyed.
func finishMigration(ctx context.Context, dep *deployment, fromSpec string, w io.Writer) error {
	if fromSpec == "" {
		return errors.New("key migrate --finish: --from names the old provider (pkcs11:... or kmip:..., as --to did)")
	}
	from, err := parseProviderSpec(fromSpec)
	if err != nil {
		return err
	}
	raw, _ := json.Marshal(from)
	body, err := dep.callBody(ctx, http.MethodPost, "keys/migrate/finish", nil, raw)
	if err != nil {
		return err
	}
	var out struct {
		Provider  string
		Destroyed []string
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	_, err = fmt.Fprintf(w, "destroyed in %s: %s\n", out.Provider, strings.Join(out.Destroyed, ", "))
	return err
}
