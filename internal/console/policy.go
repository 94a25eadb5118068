package console

import (
	"encoding/json"
	"fmt"
)

// policySummary is what the bucket list says about a bucket policy.
type policySummary struct {
	Present    bool
	Statements int
	Allow      int
	Deny       int
	// Public: some Allow statement names every principal ("*") without
	// a condition.
	Public bool
	// Invalid: the stored document did not parse as JSON (it was
	// validated when stored, so this is damage).
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

// summarizePolicy reads a policy document's statements. Statement and
// Principal take the forms the policy language allows: one statement or
// a list; "*" or a map of principal types to a name or a list.
func summarizePolicy(doc []byte) policySummary {
	if doc == nil {
		return policySummary{}
	}
	ps := policySummary{Present: true}
	var d struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		ps.Invalid = true
		return ps
	}
	type statement struct {
		Effect    string
		Principal json.RawMessage
		Condition json.RawMessage
	}
	var list []statement
	if err := json.Unmarshal(d.Statement, &list); err != nil {
		var one statement
		if err := json.Unmarshal(d.Statement, &one); err != nil {
			ps.Invalid = true
			return ps
		}
		list = []statement{one}
	}
	for _, st := range list {
		ps.Statements++
		switch st.Effect {
		case "Allow":
			ps.Allow++
			if len(st.Condition) == 0 && everyone(st.Principal) {
				ps.Public = true
			}
		case "Deny":
			ps.Deny++
		}
	}
	return ps
}

// everyone reports whether a Principal element names every principal.
func everyone(p json.RawMessage) bool {
	var s string
	if json.Unmarshal(p, &s) == nil {
		return s == "*"
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(p, &m) != nil {
		return false
	}
	for _, v := range m {
		var one string
		if json.Unmarshal(v, &one) == nil && one == "*" {
			return true
		}
		var many []string
		if json.Unmarshal(v, &many) == nil {
			for _, x := range many {
				if x == "*" {
					return true
				}
			}
		}
	}
	return false
}
