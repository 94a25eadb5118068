package policy

import (
	"errors"
	"testing"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

const acct = "strongroom"

func req(principal, action, resource string, ctx map[string][]string) *Request {
	return &Request{Principal: principal, Account: acct, Action: action, Resource: resource, Context: ctx}
}

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

func mustParseIdentity(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := ParseIdentity([]byte(doc))
	if err != nil {
		t.Fatalf("ParseIdentity(%s): %v", doc, err)
	}
	return p
}

// malformedMessage returns the message of a MalformedPolicy error, failing
// the test for any other error.
func malformedMessage(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, errs.MalformedPolicy) {
		t.Fatalf("error %v is not MalformedPolicy", err)
	}
	return errs.As(err).Message
}
