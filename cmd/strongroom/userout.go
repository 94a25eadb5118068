package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/iam"
)

// decodeUserResult decodes the admin API's answer to a user operation
// into the value the offline call returns, so both print alike.
func decodeUserResult(op string, body []byte) (any, error) {
	switch op {
	case "create", "key-add", "key-rotate":
		c := new(iam.Credentials)
		if err := json.Unmarshal(body, c); err != nil {
			return nil, err
		}
		return c, nil
	case "list":
		var users []iam.UserInfo
		if err := json.Unmarshal(body, &users); err != nil {
			return nil, err
		}
		return users, nil
	case "delete", "key-remove":
		var m map[string]string
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		return m, nil
	}
	var u iam.UserInfo
	if err := json.Unmarshal(body, &u); err != nil {
		return nil, err
	}
	return u, nil
}

// printUserResult prints a user operation's result: new credentials
// readably (the secret is shown only here, once), users as a table, or
// any of them as JSON with --json.
func printUserResult(w io.Writer, o *output, v any) error {
	switch v := v.(type) {
	case *iam.Credentials:
		if o.json {
			return o.print(w, v, nil)
		}
		_, err := fmt.Fprintf(w, "user: %s\naccess key: %s\nsecret key: %s\n", v.User, v.AccessKey, v.SecretKey)
		return err
	case []iam.UserInfo:
		return o.print(w, v, func() *table { return userTable(v...) })
	case iam.UserInfo:
		return o.print(w, v, func() *table { return userTable(v) })
	case map[string]string:
		return o.print(w, v, func() *table {
			keys := slices.Sorted(maps.Keys(v))
			t := newTable()
			row := make([]any, len(keys))
			for i, k := range keys {
				t.header = append(t.header, strings.ToUpper(k))
				row[i] = v[k]
			}
			t.add(row...)
			return t
		})
	}
	return o.print(w, v, func() *table { return newTable() })
}

// userTable shows users with their access keys (never secrets) and
// policies; an attached policy document shows as "(document)".
func userTable(users ...iam.UserInfo) *table {
	t := newTable("USER", "DISABLED", "CREATED", "ACCESS KEYS", "POLICIES")
	for _, u := range users {
		var keys, policies []string
		for _, k := range u.Keys {
			if k.Disabled {
				keys = append(keys, k.AccessKey+"(disabled)")
			} else {
				keys = append(keys, k.AccessKey)
			}
		}
		for _, p := range u.Policies {
			if strings.HasPrefix(strings.TrimSpace(p), "{") {
				p = "(document)"
			}
			policies = append(policies, p)
		}
		t.add(u.Name, u.Disabled, u.Created, keys, policies)
	}
	return t
}
