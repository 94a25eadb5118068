package meta

// ForgetUser removes user name from p: its grant, and its ownership (the
// key falls to the root account). It reports whether p changed. Stores
// call it for every key policy in the transaction that deletes the user:
// grants are keyed by user name (users have no other stable id), so a
// user created later under the same name must start with none.
func ForgetUser(p *KeyPolicy, name string) bool {
	changed := false
	if _, ok := p.Grants[name]; ok {
		delete(p.Grants, name)
		changed = true
	}
	if p.Owner == name && name != "" {
		p.Owner = ""
		changed = true
	}
	return changed
}
