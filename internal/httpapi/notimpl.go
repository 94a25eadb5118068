package httpapi

import (
	"fmt"
	"slices"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/errs"
)

// notImplemented is NotImplemented naming what is not: op (an operation
// that exists but not in this dialect), or, with op "", the request's
// method, target and sub-resources when no operation matched it.
func notImplemented(q *request, op string) error {
	if op != "" {
		return errs.NotImplemented.WithMessage(fmt.Sprintf("%s is not implemented in the %s dialect.", op, q.d.Name()))
	}
	target := "an object"
	if q.key == "" {
		target = "a bucket"
	}
	what := q.r.Method + " on " + target
	var subs []string
	for k := range q.query {
		if len(k) > 64 {
			k = k[:64] + "..."
		}
		subs = append(subs, k)
	}
	slices.Sort(subs)
	if len(subs) > 8 {
		subs = append(subs[:8], "...")
	}
	if len(subs) > 0 {
		what += " with ?" + strings.Join(subs, "&")
	}
	return errs.NotImplemented.WithMessage(fmt.Sprintf("%s is not an operation this server implements.", what))
}
