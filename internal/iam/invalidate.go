package iam

import "github.com/strongroom-dev/strongroom/internal/meta"

// Invalidate drops cached users on a change another node made
// (meta.Invalidations): a user change, or InvalidateAll. The cache is
// keyed by access key and user changes are rare, so any user change
// drops every entry. Between InvalidateDeaf and the next InvalidateAll
// (the listener reconnecting) nothing is cached: every lookup reads the
// store, so a user disabled elsewhere is refused at once even then.
func (i *IAM) Invalidate(inv meta.Invalidation) {
	switch inv.Kind {
	case meta.InvalidateUser:
		i.cache.invalidate()
	case meta.InvalidateAll:
		i.cache.setDeaf(false)
	case meta.InvalidateDeaf:
		i.cache.setDeaf(true)
	}
}
