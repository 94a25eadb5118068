package policy

// restrictingKeys are the condition keys whose fixed values (tested with a
// positive operator) keep a statement from being public, after S3's
// definition of a public bucket policy: a source network, VPC, account,
// organization or ARN, or a named user, is not "everyone".
var restrictingKeys = map[string]bool{
	KeySourceIP:             true,
	"aws:sourcevpc":         true,
	"aws:sourcevpce":        true,
	"aws:sourcearn":         true,
	"aws:sourceaccount":     true,
	"aws:sourceowner":       true,
	"aws:principalorgid":    true,
	"aws:principalaccount":  true,
	"aws:principalarn":      true,
	"aws:userid":            true,
	KeyUsername:             true,
	"s3:dataaccesspointarn": true,
}

// Public reports whether the policy is public as S3's Block Public Access
// judges it: some Allow statement applies to anonymous requests (Principal
// "*", or a NotPrincipal that leaves them in) without a condition that
// pins a restricting key (source IP, VPC, account, ARN...) to fixed values.
func (p *Policy) Public() bool {
	if p == nil || p.identity {
		return false
	}
	for i := range p.stmts {
		s := &p.stmts[i]
		if s.deny || s.principal == nil || s.principal.match("", "") == s.notPrincipal {
			continue
		}
		restricted := false
		for _, c := range s.conds {
			if restrictingKeys[c.key] && !c.op.negated && !c.ifExists && c.op.kind != kindNull && !c.matchesEverything() {
				restricted = true
				break
			}
		}
		if !restricted {
			return true
		}
	}
	return false
}

// matchesEverything reports whether a condition's values admit any request
// value: a "*" pattern (only where "*" is a wildcard: the Like operators
// and the ARN ones; StringEquals takes it literally), 0.0.0.0/0 or ::/0.
func (c *condition) matchesEverything() bool {
	wildcard := c.op.cmp == cmpLike || c.op.kind == kindARN
	for _, v := range c.strs {
		if wildcard && v == "*" {
			return true
		}
	}
	for _, pr := range c.prefixes {
		if pr.Bits() == 0 {
			return true
		}
	}
	return false
}

// Effects counts the policy's Allow and Deny statements.
func (p *Policy) Effects() (allow, deny int) {
	if p == nil {
		return 0, 0
	}
	for i := range p.stmts {
		if p.stmts[i].deny {
			deny++
		} else {
			allow++
		}
	}
	return allow, deny
}
