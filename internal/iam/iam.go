// Package iam holds identities: the root account, users and their access
// keys. It answers the authentication layer's "what is the secret of this
// access key" and the service's "who is this".
package iam

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"time"

	"strongroom/internal/errs"
	"strongroom/internal/meta"
	"strongroom/internal/service"
)

// RootUser is the name buckets created by the root account are owned by.
const RootUser = "root"

// IAM resolves access keys against the root credentials and the users in
// the metadata store.
type IAM struct {
	meta       meta.Store
	rootAccess string
	rootSecret string
}

// New returns an IAM with the given root credentials.
func New(m meta.Store, rootAccessKey, rootSecretKey string) *IAM {
	return &IAM{meta: m, rootAccess: rootAccessKey, rootSecret: rootSecretKey}
}

func (i *IAM) isRoot(ak string) bool {
	return subtle.ConstantTimeCompare([]byte(ak), []byte(i.rootAccess)) == 1
}

// SecretKey implements auth.Credentials.
func (i *IAM) SecretKey(ctx context.Context, accessKeyID string) (string, error) {
	if i.isRoot(accessKeyID) {
		return i.rootSecret, nil
	}
	u, err := i.meta.UserByAccessKey(ctx, accessKeyID)
	if err != nil {
		if errors.Is(err, meta.ErrNoSuchAccessKey) {
			return "", errs.InvalidAccessKeyID
		}
		return "", err
	}
	for _, k := range u.Keys {
		if k.ID == accessKeyID {
			if k.Disabled || u.Disabled {
				return "", errs.InvalidAccessKeyID
			}
			return string(k.Secret), nil
		}
	}
	return "", errs.InvalidAccessKeyID
}

// Principal implements httpapi.Identities.
func (i *IAM) Principal(ctx context.Context, accessKeyID string) (service.Principal, error) {
	if i.isRoot(accessKeyID) {
		return service.Principal{User: RootUser, Root: true}, nil
	}
	u, err := i.meta.UserByAccessKey(ctx, accessKeyID)
	if err != nil {
		if errors.Is(err, meta.ErrNoSuchAccessKey) {
			return service.Principal{}, errs.InvalidAccessKeyID
		}
		return service.Principal{}, err
	}
	return service.Principal{User: u.Name}, nil
}

var userName = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)

// Credentials is a new access key pair.
type Credentials struct {
	User      string `json:"user"`
	AccessKey string `json:"accessKey"`
	SecretKey string `json:"secretKey"`
}

// CreateUser creates a user with one fresh access key.
func (i *IAM) CreateUser(ctx context.Context, name string) (*Credentials, error) {
	if !userName.MatchString(name) || name == RootUser {
		return nil, fmt.Errorf("invalid user name %q: 1-64 characters of letters, digits and +=,.@_-, not %q", name, RootUser)
	}
	if _, err := i.meta.GetUser(ctx, name); err == nil {
		return nil, fmt.Errorf("user %q: %w", name, meta.ErrUserExists)
	}
	c := NewCredentials()
	c.User = name
	u := &meta.User{
		Name:    name,
		Created: time.Now().UTC(),
		Keys:    []meta.AccessKey{{ID: c.AccessKey, Secret: []byte(c.SecretKey), Created: time.Now().UTC()}},
	}
	if err := i.meta.PutUser(ctx, u); err != nil {
		return nil, err
	}
	return c, nil
}

// NewCredentials generates a random access key pair (20-character key id,
// 40-character secret, like AWS's).
func NewCredentials() *Credentials {
	return &Credentials{AccessKey: randomString(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), SecretKey: randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
}

// randomString draws n characters uniformly from alphabet (rejection
// sampling, so no character is likelier than another).
func randomString(n int, alphabet string) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		rand.Read(buf[:])
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}
