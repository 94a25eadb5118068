// Package sealed is strongroom's on-disk ciphertext format: a chunked AEAD
// (the STREAM construction) over AES-256-GCM or SM4-GCM, with authenticated
// random access so a range read decrypts only the segments it touches.
//
// The package never sees a KMS or an object: it is handed a part key and a
// byte stream. The layer above derives part keys from an object's OEK with
// PartKey, seals each part with a Writer, and reads it back with a Reader.
//
// # Why it is built this way
//
//   - Segments: a blob is cut into fixed-size segments, each its own GCM
//     message, so any byte range can be served by reading and authenticating
//     only the segments it overlaps, and memory stays bounded by one segment.
//   - STREAM nonces: each segment's nonce is its index plus a "last segment"
//     flag. Moving, dropping, duplicating or splicing a segment changes the
//     nonce it is opened with; cutting the blob at a segment boundary leaves
//     a final segment that was not sealed as last; appending puts data after
//     the segment that was. All of these fail authentication.
//   - Per-blob salt: the nonces are a deterministic counter, so the key must
//     never seal two blobs. A multipart part number can be uploaded again
//     with the same part key, so every blob draws a fresh 32-byte salt and
//     seals with a key derived from (part key, salt, header).
//   - Header in the key derivation: the blob key depends on every header
//     byte, so changing the algorithm, segment size or salt (or a future
//     field) makes every segment fail, with no separate header MAC.
//   - GM-only: SM4-GCM blobs derive keys with HKDF over SM3, AES-256-GCM
//     blobs with HKDF over SHA-256; neither mixes in the other's primitives.
//
// # Byte format, version 1
//
// All integers are big-endian. A blob is a 42-byte header followed by one or
// more sealed segments stored back to back, with nothing after the last one.
//
//	offset size  field
//	0      4     magic "SRSB" (0x53 0x52 0x53 0x42)
//	4      1     version = 0x01
//	5      1     algorithm: 0x01 AES-256-GCM, 0x02 SM4-GCM (others invalid)
//	6      4     S, plaintext bytes per segment, uint32, 16 <= S <= 16 MiB
//	10     32    salt, uniformly random, fresh for every blob
//	42           segment 0, segment 1, ... segment N-1
//
// A plaintext of P bytes has N = max(1, ceil(P/S)) segments. Segments 0..N-2
// carry exactly S plaintext bytes; segment N-1 carries P-(N-1)*S bytes, which
// is 1..S, or 0 only when P = 0 (an empty plaintext is a single empty last
// segment). A sealed segment is its GCM ciphertext (same length as its
// plaintext) followed by the 16-byte GCM tag, so the stored size is
//
//	42 + 16*N + P
//
// and a reader recovers P from the stored size and S: with B = size-42 and
// k, r = B div (S+16), B mod (S+16): k = 0 requires r >= 16 (P = r-16);
// r = 0 gives P = k*S; r > 16 gives P = k*S + r-16; anything else (a
// trailing 1..16 bytes after whole segments, B < 16) is not a sealed size.
//
// Keys. H is SHA-256 for AES-256-GCM and SM3 for SM4-GCM; L is 32 for
// AES-256-GCM and 16 for SM4-GCM; HKDF is RFC 5869 and "||" concatenates.
//
//	part key = HKDF-H(IKM = OEK (32 bytes), salt = empty,
//	                  info = "strongroom/sealed/v1 part key " || name || uint32(part), L)
//	blob key = HKDF-H(IKM = part key, salt = header[10:42],
//	                  info = "strongroom/sealed/v1 blob key" || header[0:42], L)
//
// where name is "AES-256-GCM" or "SM4-GCM" and part is 0 for a single-part
// object, else the multipart part number.
//
// Segment i (0-based) is sealed with the blob key under GCM with a 96-bit
// nonce, a 128-bit tag and empty additional data:
//
//	nonce = 0x00 0x00 0x00 || uint64(i) || last
//
// where last is 0x01 for segment N-1 and 0x00 otherwise.
//
// A reader must reject (ErrFormat) bad magic, a version or algorithm it does
// not know and an out-of-range S, and must treat a stored size that is not a
// sealed size, or any segment whose tag does not verify, as an
// authentication failure (ErrAuth). It must not release plaintext of a
// segment before that segment's tag verified.
//
// Version 1 is pinned by the golden vectors in testdata/golden.json; a change
// to any byte above is a new version, and readers keep reading version 1.
//
// # Plain blobs, version 1
//
// Unencrypted data is stored in the same segments, each followed by a
// checksum instead of sealed, so that a flipped bit on disk is an error
// rather than wrong bytes, and a range read checks only the segments it
// touches (Reader, NewRangeReader and ReadAt are shared with sealed blobs).
// A checksum protects against damage, not against an attacker who can
// write the data directory: that is what encryption is for.
//
//	offset size  field
//	0      4     magic "SRPB" (0x53 0x52 0x50 0x42)
//	4      1     version = 0x01
//	5      1     checksum: 0x01 XXH3-64 (others invalid)
//	6      4     S, data bytes per segment, uint32, 16 <= S <= 16 MiB
//	10           segment 0, segment 1, ... segment N-1
//
// Segments are cut exactly as for sealed blobs (N = max(1, ceil(P/S))); a
// stored segment is its data followed by the big-endian uint64
//
//	XXH3-64(data, seed = XXH3-64(header[0:10] || uint64(i) || last))
//
// (XXH3_64bits_withSeed and XXH3_64bits of the reference xxHash), with
// last = 0x01 for segment N-1 and 0x00 otherwise. The stored size is
// 10 + 8*N + P, and P is recovered from it as for sealed blobs (with 10 and
// 8 in place of 42 and 16). Seeding with the header, index and last flag
// makes a moved, duplicated or dropped segment, or a blob cut at a segment
// boundary, fail like a flipped bit. A reader must reject a bad header
// (ErrFormat), treat an impossible stored size or a mismatching checksum as
// damage (ErrChecksum), and never return data of a segment before its
// checksum matched. XXH3 rather than CRC32C because it is about twice as
// fast on the machines measured (CRC32C with SSE4.2 included); 64 bits also
// make a random corruption passing unnoticed a 2^-64 event.
//
// Which format a stored part has is recorded in its metadata, not sniffed:
// parts written before plain blobs existed are raw bytes, with no header.
package sealed
