package server

import "fmt"

// validatePolicy checks a user policy: a canned name or a document.
func validatePolicy(p string) error {
	switch p {
	case "readonly", "readwrite", "writeonly":
		return nil
	}
	if len(p) > 0 && p[0] == '{' {
		return nil // documents are validated by the policy engine
	}
	return fmt.Errorf("unknown policy %q: use readonly, readwrite, writeonly or a JSON policy document", p)
}
