package kms

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Keyring file, format version 1 (2: the same, and the body may hold
// tombstones of retired versions; written only when it does):
//
//	offset  size  field
//	0       8     magic "SRKEYRNG"
//	8       2     format version = 1, uint16 big endian
//	10      32    salt, random per write
//	42      16    key check value = HKDF-SHA256(root key, salt, fileCheckInfo), 16 bytes
//	58      ...   AES-256-GCM ciphertext and tag of the JSON body (fileBody)
//
// The GCM key and nonce are HKDF-SHA256(root key, salt, fileKeyInfo), 32 + 12
// bytes; the additional data is bytes 0..58. The check value tells a wrong
// root key (clear error, ErrWrongRootKey) from a damaged file
// (ErrKeyringCorrupt) without decrypting anything. The file is replaced
// atomically on every change (temp file, fsync, rename, fsync directory).
const (
	fileMagic      = "SRKEYRNG"
	fileVersion1   = 1
	fileVersion2   = 2 // version 1 plus tombstones of retired versions
	checkSize      = 16
	fileHeaderSize = len(fileMagic) + 2 + saltSize + checkSize
	fileKeyInfo    = "strongroom/kms/keyring/v1 file key"
	fileCheckInfo  = "strongroom/kms/keyring/v1 key check"
	maxFileSize    = 64 << 20
)

// RootKeySize is the size in bytes of the root key.
const RootKeySize = 32

// Errors opening a keyring file.
var (
	ErrWrongRootKey   = errors.New("kms: wrong root key for this keyring file")
	ErrKeyringCorrupt = errors.New("kms: keyring file is corrupt")
)

// fileBody is the plaintext of a keyring file.
type fileBody struct {
	Default string    `json:"default"`
	Keys    []fileKey `json:"keys"`
}

type fileKey struct {
	ID       string        `json:"id"`
	Created  time.Time     `json:"created"`
	Enabled  bool          `json:"enabled"`
	Versions []fileVersion `json:"versions"`
}

type fileVersion struct {
	Secret  []byte    `json:"secret"` // base64 in JSON; the file is encrypted
	Created time.Time `json:"created"`
	// Retired marks a tombstone (format version 2 only): the version's
	// secret was destroyed; Secret is empty. Versions stay a dense list,
	// so version i+1 is still Versions[i].
	Retired time.Time `json:"retired,omitzero"`
}

// encodeKeyring returns the encrypted file image of st.
func encodeKeyring(root []byte, st *state) ([]byte, error) {
	body := fileBody{Default: st.defaultID}
	// Version 1 unless a tombstone needs version 2: a keyring that never
	// retired a version stays readable by older strongroom releases, and
	// one that did is refused by them (unsupported version) rather than
	// misread.
	format := uint16(fileVersion1)
	for _, id := range st.sortedIDs() {
		k := st.keys[id]
		fk := fileKey{ID: k.id, Created: k.created, Enabled: k.enabled}
		for _, v := range k.versions {
			fk.Versions = append(fk.Versions, fileVersion{Secret: v.secret, Created: v.created, Retired: v.retired})
			if !v.retired.IsZero() {
				format = fileVersion2
			}
		}
		body.Keys = append(body.Keys, fk)
	}
	plain, err := json.Marshal(&body)
	if err != nil {
		return nil, fmt.Errorf("kms: encoding keyring: %w", err)
	}
	defer clear(plain)

	out := make([]byte, fileHeaderSize, fileHeaderSize+len(plain)+tagSize)
	copy(out, fileMagic)
	binary.BigEndian.PutUint16(out[len(fileMagic):], format)
	salt := out[len(fileMagic)+2 : len(fileMagic)+2+saltSize]
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("kms: random: %w", err)
	}
	check, err := keyCheck(root, salt)
	if err != nil {
		return nil, err
	}
	copy(out[len(fileMagic)+2+saltSize:], check)
	aead, nonce, err := deriveAEAD(root, salt, fileKeyInfo)
	if err != nil {
		return nil, err
	}
	return aead.Seal(out, nonce, plain, out[:fileHeaderSize]), nil
}

// decodeKeyring decrypts and validates a file image.
func decodeKeyring(root, data []byte) (*state, error) {
	if len(data) < len(fileMagic)+2 || string(data[:len(fileMagic)]) != fileMagic {
		return nil, fmt.Errorf("%w: not a keyring file", ErrKeyringCorrupt)
	}
	format := binary.BigEndian.Uint16(data[len(fileMagic):])
	if format != fileVersion1 && format != fileVersion2 {
		return nil, fmt.Errorf("kms: unsupported keyring file version %d", format)
	}
	if len(data) < fileHeaderSize+tagSize {
		return nil, fmt.Errorf("%w: truncated", ErrKeyringCorrupt)
	}
	salt := data[len(fileMagic)+2 : len(fileMagic)+2+saltSize]
	check, err := keyCheck(root, salt)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(check, data[len(fileMagic)+2+saltSize:fileHeaderSize]) != 1 {
		return nil, ErrWrongRootKey
	}
	aead, nonce, err := deriveAEAD(root, salt, fileKeyInfo)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, nonce, data[fileHeaderSize:], data[:fileHeaderSize])
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrKeyringCorrupt)
	}
	defer clear(plain)
	var body fileBody
	if err := json.Unmarshal(plain, &body); err != nil {
		clearBody(&body)
		return nil, fmt.Errorf("%w: bad body", ErrKeyringCorrupt)
	}
	st, err := stateFromBody(&body, format)
	if err != nil {
		clearBody(&body)
		return nil, err
	}
	return st, nil
}

func clearBody(b *fileBody) {
	for _, k := range b.Keys {
		for _, v := range k.Versions {
			clear(v.Secret)
		}
	}
}

func stateFromBody(body *fileBody, format uint16) (*state, error) {
	st := &state{keys: make(map[string]*cmk, len(body.Keys)), defaultID: body.Default}
	for _, fk := range body.Keys {
		if validName(fk.ID) != nil {
			return nil, fmt.Errorf("%w: invalid key id %s", ErrKeyringCorrupt, quoteID(fk.ID))
		}
		if _, dup := st.keys[fk.ID]; dup {
			return nil, fmt.Errorf("%w: duplicate key %s", ErrKeyringCorrupt, quoteID(fk.ID))
		}
		if len(fk.Versions) == 0 || len(fk.Versions) > maxVersions {
			return nil, fmt.Errorf("%w: key %s has %d versions", ErrKeyringCorrupt, quoteID(fk.ID), len(fk.Versions))
		}
		k := &cmk{id: fk.ID, created: fk.Created, enabled: fk.Enabled}
		for i, v := range fk.Versions {
			if !v.Retired.IsZero() {
				if format < fileVersion2 || len(v.Secret) != 0 || i == len(fk.Versions)-1 {
					return nil, fmt.Errorf("%w: key %s version %d: a bad tombstone", ErrKeyringCorrupt, quoteID(fk.ID), i+1)
				}
				k.versions = append(k.versions, version{created: v.Created, retired: v.Retired})
				continue
			}
			if len(v.Secret) != secretSize {
				return nil, fmt.Errorf("%w: key %s version %d has a bad secret length", ErrKeyringCorrupt, quoteID(fk.ID), i+1)
			}
			k.versions = append(k.versions, version{secret: v.Secret, created: v.Created})
		}
		st.keys[fk.ID] = k
	}
	if _, ok := st.keys[st.defaultID]; !ok {
		return nil, fmt.Errorf("%w: default key %s missing", ErrKeyringCorrupt, quoteID(st.defaultID))
	}
	return st, nil
}

func keyCheck(root, salt []byte) ([]byte, error) {
	c, err := hkdf.Key(sha256.New, root, salt, fileCheckInfo, checkSize)
	if err != nil {
		return nil, errors.New("kms: key derivation failed")
	}
	return c, nil
}
