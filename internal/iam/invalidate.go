package iam

import "github.com/strongroom-dev/strongroom/internal/meta"

// Invalidate drops cached users on a change another node made
// (meta.Invalidations): a user change, or InvalidateAll. The cache is
// keyed by access key and user changes are rare, so any user change
// drops every entry.
func (i *IAM) Invalidate(inv meta.Invalidation) {
	switch inv.Kind {
	case meta.InvalidateUser, meta.InvalidateAll:
		i.cache.invalidate()
	}
}
