package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/strongroom-dev/strongroom/internal/errs"
	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// sealing is how one write is encrypted: nil fields mean plaintext.
type sealing struct {
	enc  *meta.Encryption
	oek  []byte
	kept sse.Kept // where the key cache keeps this key's blob keys, if it does
}

func (s *sealing) encrypted() bool { return s != nil && s.enc != nil }

// encryption is the material to store with the object (nil: plaintext).
func (s *sealing) encryption() *meta.Encryption {
	if s == nil {
		return nil
	}
	return s.enc
}

// plaintextETag reports whether an object's ETag is the MD5 of its
// plaintext: for unencrypted and managed-key objects, as S3 does. SSE-KMS
// and SSE-C ETags must not reveal the plaintext's MD5.
func (s *sealing) plaintextETag() bool {
	return !s.encrypted() || sse.Mode(s.enc.Mode) == sse.Managed
}

// opaqueETag is a random ETag for objects whose plaintext MD5 must stay
// hidden; it is stable because it is stored.
func opaqueETag() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// bucketDefault returns a bucket's default encryption, if any.
func bucketDefault(b *meta.Bucket) (*sse.Config, error) {
	return sse.DecodeConfig(b.Config[sse.ConfigName])
}

// newSealing decides how a new object version of bucket/key is encrypted
// (request spec > bucket default > none) and creates its object key.
func (s *Service) newSealing(ctx context.Context, b *meta.Bucket, key string, req *sse.Spec) (*sealing, error) {
	spec, err := s.writeSpec(b, req)
	if err != nil {
		return nil, err
	}
	return s.sealingFor(ctx, spec, b.Name, key)
}

// sealingFor creates the object key of a new version of bucket/key under
// spec (nil: plaintext).
func (s *Service) sealingFor(ctx context.Context, spec *sse.Spec, bucket, key string) (*sealing, error) {
	if spec == nil {
		return nil, nil
	}
	// No separate key check here: NewObjectKey runs before any data is
	// read, and the KMS refuses an unknown or disabled key itself
	// (GenerateDataKey, or creating a bucket key). A DescribeKey per write
	// would double the KMS calls of SSE-KMS PUTs and defeat bucket keys.
	oek, enc, kept, err := s.sealer.NewObjectKey(ctx, spec, bucket, key)
	if err != nil {
		s.kmsRefused(ctx, err, spec.KeyID, KeyEncrypt) // keyaccess.go
		return nil, err
	}
	return &sealing{enc: enc, oek: oek, kept: kept}, nil
}

// writeSpec is how a new object version in b is encrypted: the request's
// spec, else the bucket default, else nil (plaintext).
func (s *Service) writeSpec(b *meta.Bucket, req *sse.Spec) (*sse.Spec, error) {
	def, err := bucketDefault(b)
	if err != nil {
		return nil, err
	}
	spec, err := sse.Resolve(req, def)
	if err != nil || spec == nil {
		return nil, err
	}
	if s.sealer == nil {
		return nil, errs.NotImplemented.WithMessage("Server-side encryption is not configured on this server.")
	}
	return spec, nil
}

// openSealing recovers the object key of stored encryption. customer is
// the request's SSE-C spec, if any; callers have matched it to the stored
// mode with checkCustomerKey.
func (s *Service) openSealing(ctx context.Context, enc *meta.Encryption, bucket, key string, customer *sse.Spec) (*sealing, error) {
	if enc == nil {
		return nil, nil
	}
	if s.sealer == nil {
		return nil, errs.NotImplemented.WithMessage("Server-side encryption is not configured on this server.")
	}
	oek, kept, err := s.sealer.ObjectKey(ctx, enc, bucket, key, customer)
	if err != nil {
		s.kmsRefused(ctx, err, enc.KeyID, KeyDecrypt) // keyaccess.go
		return nil, err
	}
	return &sealing{enc: enc, oek: oek, kept: kept}, nil
}

// PutBucketEncryption sets a bucket's default encryption. It applies to
// objects written from now on and never touches existing ones.
func (s *Service) PutBucketEncryption(ctx context.Context, p Principal, bucket string, c *sse.Config) error {
	if err := s.checkBucketDefault(ctx, c); err != nil {
		return err
	}
	if err := s.checkDefaultKey(ctx, p, c); err != nil {
		return err
	}
	return s.setBucketConfig(ctx, p, ActPutEncryption, bucket, sse.ConfigName, c.Encode())
}

// checkBucketDefault validates a bucket default encryption, its KMS key
// included.
func (s *Service) checkBucketDefault(ctx context.Context, c *sse.Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if s.sealer == nil {
		return errs.NotImplemented.WithMessage("Server-side encryption is not configured on this server.")
	}
	if c.Mode == sse.KMS && c.KeyID != "" {
		return s.sealer.CheckKey(ctx, &sse.Spec{Mode: sse.KMS, KeyID: c.KeyID})
	}
	return nil
}

// GetBucketEncryption returns a bucket's default encryption.
func (s *Service) GetBucketEncryption(ctx context.Context, p Principal, bucket string) (*sse.Config, error) {
	raw, err := s.bucketConfig(ctx, p, ActGetEncryption, bucket, sse.ConfigName)
	if err != nil {
		return nil, err
	}
	c, err := sse.DecodeConfig(raw)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errs.NoEncryptionConfig
	}
	return c, nil
}

// DeleteBucketEncryption removes a bucket's default encryption (deleting
// none is not an error, as S3).
func (s *Service) DeleteBucketEncryption(ctx context.Context, p Principal, bucket string) error {
	return s.setBucketConfig(ctx, p, ActDeleteEncryption, bucket, sse.ConfigName, nil)
}
