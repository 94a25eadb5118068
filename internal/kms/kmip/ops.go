package kmip

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom-dev/strongroom/internal/kms/kmip/ttlv"
)

// The KMIP operations strongroom uses, each one request.

func attribute(name string, value ttlv.Item) ttlv.Item {
	value.Tag = tagAttributeValue
	return ttlv.Struct(tagAttribute, ttlv.Text(tagAttributeName, name), value)
}

func nameAttribute(name string) ttlv.Item {
	return attribute(attrName, ttlv.Struct(0,
		ttlv.Text(tagNameValue, name), ttlv.Enum(tagNameType, nameTypeText)))
}

// create makes an AES-256 key named name, usable to encrypt and decrypt,
// in the object group group. It is Pre-Active until activate.
func (c *client) create(ctx context.Context, name, group string) (string, error) {
	attrs := []ttlv.Item{
		attribute(attrAlgorithm, ttlv.Enum(0, algorithmAES)),
		attribute(attrLength, ttlv.Int(0, 256)),
		attribute(attrUsageMask, ttlv.Int(0, usageEncrypt|usageDecrypt)),
		nameAttribute(name),
	}
	if group != "" {
		attrs = append(attrs, attribute(attrObjectGroup, ttlv.Text(0, group)))
	}
	p, err := c.do(ctx, opCreate,
		ttlv.Enum(tagObjectType, objectTypeSymmetricKey),
		ttlv.Struct(tagTemplateAttribute, attrs...))
	if err != nil {
		return "", err
	}
	uid := p.Text(tagUniqueIdentifier)
	if uid == "" {
		return "", c.unavailable(fmt.Errorf("create answered no unique identifier"))
	}
	return uid, nil
}

func (c *client) activate(ctx context.Context, uid string) error {
	_, err := c.do(ctx, opActivate, ttlv.Text(tagUniqueIdentifier, uid))
	return err
}

// revoke moves an Active key to Deactivated (it no longer encrypts, and on
// most servers no longer decrypts either: a step before destroy).
func (c *client) revoke(ctx context.Context, uid string) error {
	_, err := c.do(ctx, opRevoke, ttlv.Text(tagUniqueIdentifier, uid),
		ttlv.Struct(tagRevocationReason, ttlv.Enum(tagRevocationReasonCode, revokeCessation)))
	return err
}

func (c *client) destroy(ctx context.Context, uid string) error {
	_, err := c.do(ctx, opDestroy, ttlv.Text(tagUniqueIdentifier, uid))
	return err
}

// locateName returns the identifiers of the objects named name.
func (c *client) locateName(ctx context.Context, name string) ([]string, error) {
	return c.locate(ctx, nameAttribute(name))
}

// locateGroup returns the identifiers of the objects in group.
func (c *client) locateGroup(ctx context.Context, group string) ([]string, error) {
	return c.locate(ctx, attribute(attrObjectGroup, ttlv.Text(0, group)))
}

func (c *client) locate(ctx context.Context, filter ttlv.Item) ([]string, error) {
	p, err := c.do(ctx, opLocate, filter)
	if err != nil {
		return nil, err
	}
	var uids []string
	for _, it := range p.All(tagUniqueIdentifier) {
		if s, ok := it.Value.(string); ok {
			uids = append(uids, s)
		}
	}
	return uids, nil
}

// objectInfo is what getAttributes reads about a key.
type objectInfo struct {
	names   []string
	state   int64
	created time.Time
}

func (c *client) getAttributes(ctx context.Context, uid string) (objectInfo, error) {
	p, err := c.do(ctx, opGetAttributes, ttlv.Text(tagUniqueIdentifier, uid),
		ttlv.Text(tagAttributeName, attrName),
		ttlv.Text(tagAttributeName, attrState),
		ttlv.Text(tagAttributeName, attrInitialDate))
	if err != nil {
		return objectInfo{}, err
	}
	var info objectInfo
	for _, a := range p.All(tagAttribute) {
		v, _ := a.Find(tagAttributeValue)
		switch a.Text(tagAttributeName) {
		case attrName:
			info.names = append(info.names, v.Text(tagNameValue))
		case attrState:
			info.state, _ = v.Value.(int64)
		case attrInitialDate:
			if s, ok := v.Value.(int64); ok {
				info.created = time.Unix(s, 0).UTC()
			}
		}
	}
	return info, nil
}

func gcmParameters() ttlv.Item {
	return ttlv.Struct(tagCryptoParameters,
		ttlv.Enum(tagBlockCipherMode, modeGCM),
		ttlv.Enum(tagCryptoAlgorithm, algorithmAES),
		ttlv.Int(tagTagLength, gcmTagSize))
}

// encrypt seals plaintext with AES-256-GCM inside the server under key
// uid, with the caller's nonce and additional data.
func (c *client) encrypt(ctx context.Context, uid string, plaintext, nonce, aad []byte) (ct, tag []byte, err error) {
	p, err := c.do(ctx, opEncrypt, ttlv.Text(tagUniqueIdentifier, uid), gcmParameters(),
		ttlv.Bytes(tagData, plaintext), ttlv.Bytes(tagIVCounterNonce, nonce),
		ttlv.Bytes(tagAEADAdditionalData, aad))
	if err != nil {
		return nil, nil, err
	}
	ct, tag = p.Bytes(tagData), p.Bytes(tagAEADTag)
	if len(ct) != len(plaintext) || len(tag) != gcmTagSize {
		return nil, nil, c.unavailable(fmt.Errorf("encrypt answered %d bytes and a %d-byte tag", len(ct), len(tag)))
	}
	return ct, tag, nil
}

// decrypt opens what encrypt sealed.
func (c *client) decrypt(ctx context.Context, uid string, ct, nonce, aad, tag []byte) ([]byte, error) {
	p, err := c.do(ctx, opDecrypt, ttlv.Text(tagUniqueIdentifier, uid), gcmParameters(),
		ttlv.Bytes(tagData, ct), ttlv.Bytes(tagIVCounterNonce, nonce),
		ttlv.Bytes(tagAEADAdditionalData, aad), ttlv.Bytes(tagAEADTag, tag))
	if err != nil {
		return nil, err
	}
	return p.Bytes(tagData), nil
}
