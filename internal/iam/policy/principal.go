package policy

import "strings"

// principals is a parsed Principal / NotPrincipal.
type principals struct {
	anyone       bool                // "*": everyone, anonymous included
	users        map[string]struct{} // plain user names (and CanonicalUser IDs)
	accountUsers map[[2]string]struct{}
	accounts     map[string]struct{} // every user of the account
}

func (p *principals) match(user, account string) bool {
	if p.anyone {
		return true
	}
	if user == "" { // anonymous: only "*" names it
		return false
	}
	if _, ok := p.users[user]; ok {
		return true
	}
	if _, ok := p.accountUsers[[2]string{account, user}]; ok {
		return true
	}
	_, ok := p.accounts[account]
	return ok
}

func (p *principals) addUser(u string) {
	if p.users == nil {
		p.users = map[string]struct{}{}
	}
	p.users[u] = struct{}{}
}

func (p *principals) addAccountUser(acct, u string) {
	if p.accountUsers == nil {
		p.accountUsers = map[[2]string]struct{}{}
	}
	p.accountUsers[[2]string{acct, u}] = struct{}{}
}

func (p *principals) addAccount(acct string) {
	if p.accounts == nil {
		p.accounts = map[string]struct{}{}
	}
	p.accounts[acct] = struct{}{}
}

// noWildcard rejects '*' and '?' inside principal names: AWS allows a
// wildcard only as the whole principal "*".
func noWildcard(v string) error {
	if hasWildcard(v) {
		return errorf("%q: wildcards are only allowed as the whole principal \"*\"", v)
	}
	return nil
}

// addAWS adds an "AWS" principal (also the element form of OSS's array):
// "*", arn:aws:iam::<acct>:root, arn:aws:iam::<acct>:user/[path/]<name>, or
// a plain user name. Roles, groups, STS sessions and OSS/RAM ARNs are
// valid but name no strongroom user, so they never match.
func (p *principals) addAWS(v string) error {
	if v == "" {
		return errorf("empty principal")
	}
	if v == "*" {
		p.anyone = true
		return nil
	}
	if err := noWildcard(v); err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(v, "arn:"):
		a, ok := splitARN(v)
		if !ok {
			return errorf("%q is not an ARN", v)
		}
		switch a[2] {
		case "iam":
			acct, res := a[4], a[5]
			if acct == "" {
				return errorf("%q names no account", v)
			}
			switch {
			case res == "root":
				p.addAccount(acct)
			case strings.HasPrefix(res, "user/"):
				name := res[strings.LastIndexByte(res, '/')+1:]
				if name == "" {
					return errorf("%q names no user", v)
				}
				p.addAccountUser(acct, name)
			}
			// roles, groups...: no strongroom principal
		case "sts":
			// assumed-role sessions: no strongroom principal
		default:
			return errorf("%q is not an IAM principal ARN", v)
		}
	case strings.HasPrefix(v, "acs:"):
		// Alibaba RAM ARN (acs:ram::<uid>:role/...): no strongroom principal
	default:
		p.addUser(v)
	}
	return nil
}

// addQCS adds a COS principal: qcs::cam::anyone:anyone,
// qcs::cam::uin/<root>:uin/<sub> (a user of the account) or
// qcs::cam::uin/<root>:uin/<root> (the account).
func (p *principals) addQCS(v string) error {
	if v == "*" || v == "qcs::cam::anyone:anyone" {
		p.anyone = true
		return nil
	}
	if err := noWildcard(v); err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(v, "qcs::cam::")
	if !ok {
		return errorf("%q is not a COS principal (qcs::cam::uin/<account>:uin/<user>)", v)
	}
	root, sub, _ := strings.Cut(rest, ":")
	acct, ok := strings.CutPrefix(root, "uin/")
	if !ok || acct == "" {
		return errorf("%q is not a COS principal (qcs::cam::uin/<account>:uin/<user>)", v)
	}
	if user, ok := strings.CutPrefix(sub, "uin/"); ok && user != "" {
		if user == acct {
			p.addAccount(acct)
		} else {
			p.addAccountUser(acct, user)
		}
	}
	// roleName/..., groupid/...: no strongroom principal
	return nil
}

// addOBS adds an OBS principal ("ID"): "*", domain/<acct>,
// domain/<acct>:user/* (every user of the account) or
// domain/<acct>:user/<name or id>.
func (p *principals) addOBS(v string) error {
	if v == "*" {
		p.anyone = true
		return nil
	}
	rest, ok := strings.CutPrefix(v, "domain/")
	if !ok {
		return errorf("%q is not an OBS principal (domain/<account>[:user/<user>])", v)
	}
	acct, user, hasUser := strings.Cut(rest, ":")
	if acct == "" || hasWildcard(acct) {
		return errorf("%q is not an OBS principal (domain/<account>[:user/<user>])", v)
	}
	if !hasUser {
		p.addAccount(acct)
		return nil
	}
	name, ok := strings.CutPrefix(user, "user/")
	if !ok || name == "" {
		return errorf("%q is not an OBS principal (domain/<account>[:user/<user>])", v)
	}
	if name == "*" {
		p.addAccount(acct)
		return nil
	}
	if err := noWildcard(name); err != nil {
		return err
	}
	p.addAccountUser(acct, name)
	return nil
}

// addCanonical adds a CanonicalUser: strongroom's canonical user ID is the
// user name.
func (p *principals) addCanonical(v string) error {
	if v == "*" {
		p.anyone = true
		return nil
	}
	if v == "" {
		return errorf("empty principal")
	}
	if err := noWildcard(v); err != nil {
		return err
	}
	p.addUser(v)
	return nil
}
