package service

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/strongroom-dev/strongroom/internal/meta"
	"github.com/strongroom-dev/strongroom/internal/sse"
)

// The replica transfer between strongroom deployments (docs/ARCHITECTURE.md,
// "Replica transfer").
//
//	PUT /BUCKET/KEY?x-strongroom-replica&versionId=V
//	x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD
//	Content-Encoding: aws-chunked, every chunk signed (SigV4, the remote's
//	access key), so the destination authenticates every byte.
//
// The decoded payload is
//
//	"SRR1" | uint32 header length | header JSON (replicaHeader) |
//	part 1's sealed bytes | part 2's | ...
//
// each part exactly the StoredSize its header entry gives. Parts are always
// sealed (internal/sealed): the source's stored ciphertext as it is when
// the source is encrypted, or, for a plaintext source, sealed on the fly
// under a fresh object key. The object key travels wrapped under a transfer
// key both ends derive from the access key's secret (which SigV4 never
// sends), so neither plaintext nor an object key crosses the wire, even
// over plain HTTP. SSE-C objects travel with their customer-key-wrapped
// object key and no transfer key.

// ReplicaQuery is the sub-resource of the replica transfer endpoint.
const ReplicaQuery = "x-strongroom-replica"

// ReplicaResultHeader answers a transfer: "installed", or "exists" when the
// destination held the version already.
const ReplicaResultHeader = "X-Strongroom-Replica"

const (
	replicaMagic     = "SRR1"
	maxReplicaHeader = 1 << 20
	transferInfo     = "strongroom replica v1"
)

var transferAAD = []byte("strongroom replica v1 object key")

// replicaHeader describes the version a transfer carries.
type replicaHeader struct {
	// Object is the source version's record: Parts without blob IDs or
	// inline data, with the StoredSize each has on the wire; Encryption
	// without the source's KMS material (an SSE-C record is whole).
	Object meta.Object
	// Key is the object key under the transfer key; nil for SSE-C and
	// delete markers.
	Key *transferKey `json:",omitempty"`
	// What the destination needs of the rule.
	ReplicaKMSKeyID string `json:",omitempty"`
	SSEKMSEncrypted bool   `json:",omitempty"`
}

// transferKey is an object key wrapped for one transfer, and how the
// parts it seals are framed.
type transferKey struct {
	Salt        []byte // HKDF salt, random per transfer
	WrappedKey  []byte // nonce | AES-256-GCM(object key) | tag
	Algorithm   string // the parts' data algorithm
	SegmentSize int
}

// transferKEK derives the key wrapping an object key in transit from the
// credential's secret: HKDF-SHA256(secret, salt, info = "strongroom replica
// v1" 0 bucket 0 key 0 versionID). The info binds the wrap to the
// destination version, so it cannot be replayed onto another.
func transferKEK(secret string, salt []byte, bucket, key, versionID string) ([]byte, error) {
	info := transferInfo + "\x00" + bucket + "\x00" + key + "\x00" + versionID
	return hkdf.Key(sha256.New, []byte(secret), salt, info, 32)
}

// transferAEAD is the AES-256-GCM of a transfer's key (the key schedule
// is all it keeps of the derived key).
func transferAEAD(secret string, salt []byte, bucket, key, versionID string) (cipher.AEAD, error) {
	kek, err := transferKEK(secret, salt, bucket, key, versionID)
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// wrapTransfer wraps oek for a transfer of bucket/key/versionID.
func wrapTransfer(secret, bucket, key, versionID string, oek []byte, enc *meta.Encryption) (*transferKey, error) {
	salt := make([]byte, 32)
	rand.Read(salt)
	g, err := transferAEAD(secret, salt, bucket, key, versionID)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(oek)+g.Overhead())
	rand.Read(nonce)
	return &transferKey{Salt: salt, WrappedKey: g.Seal(nonce, nonce, oek, transferAAD), Algorithm: enc.Algorithm, SegmentSize: enc.SegmentSize}, nil
}

// errTransferKey: the wrapped object key does not open under the
// credential's secret (another secret, or altered in transit).
var errTransferKey = errors.New("replica: the object key does not unwrap under the transfer key")

// unwrapTransfer recovers a transferred object key.
func unwrapTransfer(secret, bucket, key, versionID string, t *transferKey) ([]byte, error) {
	g, err := transferAEAD(secret, t.Salt, bucket, key, versionID)
	if err != nil {
		return nil, err
	}
	if len(t.WrappedKey) < g.NonceSize()+g.Overhead() {
		return nil, errTransferKey
	}
	oek, err := g.Open(nil, t.WrappedKey[:g.NonceSize()], t.WrappedKey[g.NonceSize():], transferAAD)
	if err != nil || len(oek) != sse.ObjectKeySize {
		return nil, errTransferKey
	}
	return oek, nil
}

// encodeReplicaHeader is the payload's prefix: magic, length, JSON.
func encodeReplicaHeader(h *replicaHeader) ([]byte, error) {
	js, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	if len(js) > maxReplicaHeader {
		return nil, fmt.Errorf("replica header of %d bytes exceeds %d", len(js), maxReplicaHeader)
	}
	out := make([]byte, 0, 8+len(js))
	out = append(out, replicaMagic...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(js)))
	return append(out, js...), nil
}

// readReplicaHeader reads the payload's prefix; it returns its length too.
func readReplicaHeader(r io.Reader) (*replicaHeader, int64, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, 0, err
	}
	if string(pre[:4]) != replicaMagic {
		return nil, 0, errors.New("replica: not a replica transfer")
	}
	n := binary.BigEndian.Uint32(pre[4:])
	if n > maxReplicaHeader {
		return nil, 0, errors.New("replica: header too large")
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return nil, 0, err
	}
	h := new(replicaHeader)
	if err := json.Unmarshal(js, h); err != nil {
		return nil, 0, fmt.Errorf("replica: header: %w", err)
	}
	return h, 8 + int64(n), nil
}

// wireObject is src as the header carries it.
func wireObject(src *meta.Object) meta.Object {
	o := *src
	o.Parts = make([]meta.Part, len(src.Parts))
	for i, p := range src.Parts {
		p.BlobID, p.Inline = "", nil
		o.Parts[i] = p
	}
	if e := src.Encryption; e != nil && sse.Mode(e.Mode) != sse.Customer {
		// The source's KMS material means nothing at the destination.
		o.Encryption = &meta.Encryption{Mode: e.Mode, Algorithm: e.Algorithm, ProjectID: e.ProjectID,
			Context: e.Context, BucketKey: e.BucketKey, SegmentSize: e.SegmentSize}
	}
	return o
}
