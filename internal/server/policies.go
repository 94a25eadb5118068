package server

import (
	"fmt"
	"strings"
	"sync"

	"github.com/strongroom-dev/strongroom/internal/iam/policy"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// Account is the account id policies name principals under
// (arn:aws:iam::strongroom:user/NAME).
const Account = "strongroom"

// policies implements service.Policies on the policy language, caching
// parsed documents (bucket policies change rarely; a request must not
// re-parse them).
type policies struct {
	mu sync.Mutex
	// bucket and identity map documents to their parsed policies; a
	// lookup by a bucket policy's bytes (m[string(doc)]) copies nothing.
	bucket, identity map[string]*policy.Policy
}

const maxCachedPolicies = 4096

func newPolicies() *policies {
	return &policies{bucket: map[string]*policy.Policy{}, identity: map[string]*policy.Policy{}}
}

// parseBucket is parse for a bucket policy document.
func (ps *policies) parseBucket(doc []byte) (*policy.Policy, error) {
	ps.mu.Lock()
	p := ps.bucket[string(doc)]
	ps.mu.Unlock()
	if p != nil {
		return p, nil
	}
	return ps.parse(string(doc), false)
}

func (ps *policies) parse(doc string, identity bool) (*policy.Policy, error) {
	cache := ps.bucket
	if identity {
		cache = ps.identity
	}
	ps.mu.Lock()
	p := cache[doc]
	ps.mu.Unlock()
	if p != nil {
		return p, nil
	}
	var err error
	if identity {
		if c, ok := policy.Canned(doc); ok {
			p = c
		} else {
			p, err = policy.ParseIdentity([]byte(doc))
		}
	} else {
		p, err = policy.Parse([]byte(doc))
	}
	if err != nil {
		return nil, err
	}
	ps.mu.Lock()
	if len(cache) >= maxCachedPolicies {
		clear(cache)
	}
	cache[doc] = p
	ps.mu.Unlock()
	return p, nil
}

// Decide implements service.Policies. A stored document that no longer
// parses (it was validated when stored) counts as an explicit Deny: failing
// closed beats granting by accident.
func (ps *policies) Decide(bucketPolicy []byte, identity []string, r *service.AuthzRequest) (service.Decision, string) {
	type doc struct {
		p    *policy.Policy
		name string
	}
	var docs []doc
	if bucketPolicy != nil {
		p, err := ps.parseBucket(bucketPolicy)
		if err != nil {
			return service.Deny, "bucket policy does not parse"
		}
		docs = append(docs, doc{p, "bucket policy"})
	}
	for i, d := range identity {
		p, err := ps.parse(d, true)
		if err != nil {
			return service.Deny, "user policy does not parse"
		}
		name := d
		if _, canned := policy.Canned(d); !canned {
			name = fmt.Sprintf("user policy %d", i+1)
		}
		docs = append(docs, doc{p, name})
	}
	req := &policy.Request{Principal: r.Principal, Account: Account, Action: r.Action, Resource: r.Resource, Context: r.Context}
	out, source := service.NotApplicable, ""
	for _, d := range docs {
		switch dec, stmt := d.p.Explain(req); dec {
		case policy.Deny:
			return service.Deny, d.name + " " + stmt
		case policy.Allow:
			out, source = service.Allow, d.name+" "+stmt
		}
	}
	return out, source
}

// ValidateBucketPolicy implements service.PolicyValidator.
func (ps *policies) ValidateBucketPolicy(doc []byte) error {
	_, err := policy.Parse(doc)
	return err
}

// PublicBucketPolicy implements service.PublicPolicies. A document that
// does not parse counts as public, so BlockPublicPolicy refuses it.
func (ps *policies) PublicBucketPolicy(doc []byte) bool {
	p, err := ps.parseBucket(doc)
	return err != nil || p.Public()
}

// validatePolicy checks a user policy: a canned name or a document.
func validatePolicy(p string) error {
	if _, ok := policy.Canned(p); ok {
		return nil
	}
	if strings.HasPrefix(strings.TrimSpace(p), "{") {
		_, err := policy.ParseIdentity([]byte(p))
		return err
	}
	return fmt.Errorf("unknown policy %q: use %s or a JSON policy document", p, strings.Join(policy.CannedNames(), ", "))
}
