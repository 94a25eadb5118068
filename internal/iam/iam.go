// Package iam holds identities: the root account, users, their access keys
// and attached policies. It answers the authentication layer's "what is the
// secret of this access key" and the service's "who is this".
//
// Secret keys are stored sealed (AES-256-GCM under a key derived from the
// root key, bound to their access key id), never in clear, and compared in
// constant time by the signature check.
package iam

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/iam/secrets"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/service"
)

// RootUser is the name buckets created by the root account are owned by.
const RootUser = "root"

// MaxKeysPerUser bounds a user's access keys (AWS allows two).
const MaxKeysPerUser = 2

// Errors.
var (
	ErrInvalidName   = errors.New("iam: invalid user name: 1-64 characters of letters, digits and +=,.@_-, not \"root\"")
	ErrTooManyKeys   = errors.New("iam: the user already has the maximum number of access keys")
	ErrNoSuchKey     = errors.New("iam: the user has no such access key")
	ErrUserHasBucket = errors.New("iam: the user still owns buckets")
)

// IAM resolves access keys against the root credentials and the users in
// the metadata store.
type IAM struct {
	meta       meta.Store
	rootAccess string
	rootSecret string
	seal       cipher.AEAD
	mu         sync.Mutex // serializes read-modify-write of user records
	cache      *userCache
}

// New returns an IAM with the given root credentials. rootKey (32 bytes)
// seals the users' secret keys.
func New(m meta.Store, rootAccessKey, rootSecretKey string, rootKey []byte) (*IAM, error) {
	g, err := secrets.AEAD(rootKey)
	if err != nil {
		return nil, err
	}
	return &IAM{meta: m, rootAccess: rootAccessKey, rootSecret: rootSecretKey, seal: g, cache: newUserCache()}, nil
}

// rootAAD binds a sealed root secret to its access key, apart from every
// user's (whose additional data is the bare access key, never with a NUL).
func rootAAD(accessKey string) []byte { return []byte("root\x00" + accessKey) }

// ErrRootSecret is returned by OpenRootSecret when the sealed secret does
// not open: a wrong root key, or damage.
var ErrRootSecret = errors.New("iam: the root secret does not open under this root key")

// SealRootSecret seals the root account's secret key under the root key,
// as users' secrets are, bound to its access key.
func SealRootSecret(rootKey []byte, accessKey, secret string) ([]byte, error) {
	return secrets.SealUnder(rootKey, rootAAD(accessKey), secret)
}

// OpenRootSecret opens what SealRootSecret sealed (ErrRootSecret if it
// does not open).
func OpenRootSecret(rootKey []byte, accessKey string, sealed []byte) (string, error) {
	s, err := secrets.OpenUnder(rootKey, rootAAD(accessKey), sealed)
	if errors.Is(err, secrets.ErrOpen) {
		err = ErrRootSecret
	}
	return s, err
}

func (i *IAM) isRoot(ak string) bool {
	return i.rootAccess != "" && subtle.ConstantTimeCompare([]byte(ak), []byte(i.rootAccess)) == 1
}

// sealSecret encrypts a secret key, bound to its access key id.
func (i *IAM) sealSecret(accessKey, secret string) []byte {
	return secrets.Seal(i.seal, []byte(accessKey), secret)
}

func (i *IAM) openSecret(accessKey string, sealed []byte) (string, error) {
	s, err := secrets.Open(i.seal, []byte(accessKey), sealed)
	if err != nil {
		return "", errors.New("iam: stored secret does not open under the root key")
	}
	return s, nil
}

// lookup finds the enabled user and key of an access key id.
func (i *IAM) lookup(ctx context.Context, accessKeyID string) (*meta.User, *meta.AccessKey, error) {
	u, gen := i.cache.get(accessKeyID)
	if u == nil {
		var err error
		if u, err = i.meta.UserByAccessKey(ctx, accessKeyID); err != nil {
			if errors.Is(err, meta.ErrNoSuchAccessKey) || errors.Is(err, meta.ErrNoSuchUser) {
				return nil, nil, errs.InvalidAccessKeyID
			}
			if errors.Is(err, meta.ErrUnavailable) {
				return nil, nil, errs.ServiceUnavailable // the store is down: retry, not a bad key
			}
			return nil, nil, err
		}
		i.cache.put(accessKeyID, u, gen)
	}
	for k := range u.Keys {
		if u.Keys[k].ID == accessKeyID {
			if u.Keys[k].Disabled || u.Disabled {
				return nil, nil, errs.InvalidAccessKeyID
			}
			return u, &u.Keys[k], nil
		}
	}
	return nil, nil, errs.InvalidAccessKeyID
}

// SecretKey implements auth.Credentials.
func (i *IAM) SecretKey(ctx context.Context, accessKeyID string) (string, error) {
	if i.isRoot(accessKeyID) {
		return i.rootSecret, nil
	}
	_, k, err := i.lookup(ctx, accessKeyID)
	if err != nil {
		return "", err
	}
	return i.openSecret(k.ID, k.Secret)
}

// Principal implements httpapi.Identities.
func (i *IAM) Principal(ctx context.Context, accessKeyID string) (service.Principal, error) {
	if i.isRoot(accessKeyID) {
		return service.Principal{User: RootUser, Root: true}, nil
	}
	u, _, err := i.lookup(ctx, accessKeyID)
	if err != nil {
		return service.Principal{}, err
	}
	return service.Principal{User: u.Name, Policies: u.Policies}, nil
}

var userName = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)

// Credentials is an access key pair.
type Credentials struct {
	User      string `json:"user"`
	AccessKey string `json:"accessKey"`
	SecretKey string `json:"secretKey"`
}

// UserInfo describes a user without secrets.
type UserInfo struct {
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	Disabled bool      `json:"disabled"`
	Keys     []KeyInfo `json:"keys"`
	Policies []string  `json:"policies,omitempty"`
}

// KeyInfo describes an access key without its secret.
type KeyInfo struct {
	AccessKey string    `json:"accessKey"`
	Created   time.Time `json:"created"`
	Disabled  bool      `json:"disabled"`
}

func info(u *meta.User) UserInfo {
	ui := UserInfo{Name: u.Name, Created: u.Created, Disabled: u.Disabled, Policies: u.Policies}
	for _, k := range u.Keys {
		ui.Keys = append(ui.Keys, KeyInfo{AccessKey: k.ID, Created: k.Created, Disabled: k.Disabled})
	}
	return ui
}

// newKey generates a key pair for user and its stored form.
func (i *IAM) newKey(user string) (*Credentials, meta.AccessKey) {
	c := NewCredentials()
	c.User = user
	return c, meta.AccessKey{ID: c.AccessKey, Secret: i.sealSecret(c.AccessKey, c.SecretKey), Created: time.Now().UTC()}
}

// CreateUser creates a user with one fresh access key.
func (i *IAM) CreateUser(ctx context.Context, name string) (*Credentials, error) {
	if !userName.MatchString(name) || name == RootUser {
		return nil, ErrInvalidName
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if _, err := i.meta.GetUser(ctx, name); err == nil {
		return nil, fmt.Errorf("user %q: %w", name, meta.ErrUserExists)
	}
	c, k := i.newKey(name)
	u := &meta.User{Name: name, Created: time.Now().UTC(), Keys: []meta.AccessKey{k}}
	defer i.cache.invalidate()
	if err := i.meta.PutUser(ctx, u); err != nil {
		return nil, err
	}
	return c, nil
}

// update applies fn to a user record under the mutation lock.
func (i *IAM) update(ctx context.Context, name string, fn func(*meta.User) error) (*meta.User, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	u, err := i.meta.GetUser(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := fn(u); err != nil {
		return nil, err
	}
	defer i.cache.invalidate()
	return u, i.meta.PutUser(ctx, u)
}

// ListUsers lists users, without secrets.
func (i *IAM) ListUsers(ctx context.Context) ([]UserInfo, error) {
	us, err := i.meta.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]UserInfo, 0, len(us))
	for _, u := range us {
		out = append(out, info(u))
	}
	return out, nil
}

// GetUser describes one user.
func (i *IAM) GetUser(ctx context.Context, name string) (UserInfo, error) {
	u, err := i.meta.GetUser(ctx, name)
	if err != nil {
		return UserInfo{}, err
	}
	return info(u), nil
}

// SetUserDisabled disables or re-enables a user (all its keys).
func (i *IAM) SetUserDisabled(ctx context.Context, name string, disabled bool) (UserInfo, error) {
	u, err := i.update(ctx, name, func(u *meta.User) error { u.Disabled = disabled; return nil })
	if err != nil {
		return UserInfo{}, err
	}
	return info(u), nil
}

// DeleteUser deletes a user that owns no bucket.
func (i *IAM) DeleteUser(ctx context.Context, name string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	bs, err := i.meta.ListBuckets(ctx)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if b.Owner == name {
			return fmt.Errorf("%w: %s", ErrUserHasBucket, b.Name)
		}
	}
	defer i.cache.invalidate()
	return i.meta.DeleteUser(ctx, name)
}

// AddAccessKey gives a user another access key.
func (i *IAM) AddAccessKey(ctx context.Context, name string) (*Credentials, error) {
	var c *Credentials
	_, err := i.update(ctx, name, func(u *meta.User) error {
		if len(u.Keys) >= MaxKeysPerUser {
			return ErrTooManyKeys
		}
		var k meta.AccessKey
		c, k = i.newKey(name)
		u.Keys = append(u.Keys, k)
		return nil
	})
	return c, err
}

// RemoveAccessKey deletes one of a user's access keys.
func (i *IAM) RemoveAccessKey(ctx context.Context, name, accessKey string) error {
	_, err := i.update(ctx, name, func(u *meta.User) error {
		for k := range u.Keys {
			if u.Keys[k].ID == accessKey {
				u.Keys = append(u.Keys[:k], u.Keys[k+1:]...)
				return nil
			}
		}
		return ErrNoSuchKey
	})
	return err
}

// SetAccessKeyDisabled disables or re-enables one access key.
func (i *IAM) SetAccessKeyDisabled(ctx context.Context, name, accessKey string, disabled bool) error {
	_, err := i.update(ctx, name, func(u *meta.User) error {
		for k := range u.Keys {
			if u.Keys[k].ID == accessKey {
				u.Keys[k].Disabled = disabled
				return nil
			}
		}
		return ErrNoSuchKey
	})
	return err
}

// RotateAccessKey replaces one of a user's access keys with a new pair in
// one step: the old key stops working when the new one exists.
func (i *IAM) RotateAccessKey(ctx context.Context, name, accessKey string) (*Credentials, error) {
	var c *Credentials
	_, err := i.update(ctx, name, func(u *meta.User) error {
		for k := range u.Keys {
			if u.Keys[k].ID == accessKey {
				var nk meta.AccessKey
				c, nk = i.newKey(name)
				u.Keys[k] = nk
				return nil
			}
		}
		return ErrNoSuchKey
	})
	return c, err
}

// SetPolicies replaces a user's attached policies (canned names or policy
// documents, validated by the caller).
func (i *IAM) SetPolicies(ctx context.Context, name string, policies []string) (UserInfo, error) {
	u, err := i.update(ctx, name, func(u *meta.User) error { u.Policies = policies; return nil })
	if err != nil {
		return UserInfo{}, err
	}
	return info(u), nil
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
