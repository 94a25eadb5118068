package console

import (
	"fmt"

	"github.com/strongroom-dev/strongroom/internal/iam/policy"
)

// policySummary is what the bucket list says about a bucket policy.
type policySummary struct {
	Present    bool
	Statements int
	Allow      int
	Deny       int
	// Public: as S3's Block Public Access judges it (policy.Public).
	Public bool
	// Invalid: the stored document did not parse (it was validated
	// when stored, so this is damage).
	Invalid bool
}

func (p policySummary) String() string {
	switch {
	case !p.Present:
		return "none"
	case p.Invalid:
		return "unreadable"
	}
	s := "s"
	if p.Statements == 1 {
		s = ""
	}
	return fmt.Sprintf("%d statement%s (%d allow, %d deny)", p.Statements, s, p.Allow, p.Deny)
}

// summarizePolicy reads a stored policy document through the policy
// language's own parser, so "public" means what Block Public Access
// means. identity selects the user-policy grammar (no Principal).
func summarizePolicy(doc []byte, identity bool) policySummary {
	if doc == nil {
		return policySummary{}
	}
	parse := policy.Parse
	if identity {
		parse = policy.ParseIdentity
	}
	p, err := parse(doc)
	if err != nil {
		return policySummary{Present: true, Invalid: true}
	}
	allow, deny := p.Effects()
	return policySummary{Present: true, Statements: allow + deny, Allow: allow, Deny: deny, Public: p.Public()}
}
