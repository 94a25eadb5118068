package sealed

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// castagnoli is the CRC32C table; hash/crc32 uses the SSE4.2 / ARMv8 CRC
// instructions for it where the CPU has them.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// plainHeader returns the header of a plain blob with segment size s.
func plainHeader(s int) [PlainHeaderSize]byte {
	var b [PlainHeaderSize]byte
	copy(b[:], plainMagic)
	b[4] = PlainVersion
	b[5] = crc32c
	binary.BigEndian.PutUint32(b[6:10], uint32(s))
	return b
}

// parsePlainHeader validates a plain header and returns its segment size.
func parsePlainHeader(b []byte) (int, error) {
	if len(b) < PlainHeaderSize {
		return 0, fmt.Errorf("sealed: plain blob of %d bytes is shorter than the header: %w", len(b), ErrFormat)
	}
	if string(b[:4]) != plainMagic {
		return 0, fmt.Errorf("sealed: bad plain magic: %w", ErrFormat)
	}
	if b[4] != PlainVersion {
		return 0, fmt.Errorf("sealed: unknown plain version %d: %w", b[4], ErrFormat)
	}
	if b[5] != crc32c {
		return 0, fmt.Errorf("sealed: unknown checksum %d: %w", b[5], ErrFormat)
	}
	seg := binary.BigEndian.Uint32(b[6:10])
	if seg < MinSegmentSize || seg > MaxSegmentSize {
		return 0, fmt.Errorf("sealed: segment size %d out of range: %w", seg, ErrFormat)
	}
	return int(seg), nil
}

// segmentCRC is the checksum of segment i of a plain blob whose header
// checksum is seed:
//
//	CRC32C(header || uint64be(i) || last || data)
//
// Binding the header, index and last flag catches a segment moved,
// duplicated or dropped, and a blob cut at a segment boundary, not only
// flipped bits.
func segmentCRC(seed uint32, i uint64, last bool, data []byte) uint32 {
	var pos [9]byte
	binary.BigEndian.PutUint64(pos[:8], i)
	if last {
		pos[8] = 1
	}
	return crc32.Update(crc32.Update(seed, castagnoli, pos[:]), castagnoli, data)
}

// NewPlainWriter writes a plain blob header to dst and returns a Writer that
// stores what is written to it in segments of segmentSize bytes (0 means
// DefaultSegmentSize), each followed by its CRC32C. Close must be called.
func NewPlainWriter(dst io.Writer, segmentSize int) (*Writer, error) {
	s, err := normSegmentSize(segmentSize)
	if err != nil {
		return nil, err
	}
	hb := plainHeader(s)
	if _, err := dst.Write(hb[:]); err != nil {
		return nil, err
	}
	return &Writer{
		dst:      dst,
		segSize:  s,
		overhead: CRCSize,
		crcSeed:  crc32.Checksum(hb[:], castagnoli),
		buf:      make([]byte, 0, s+CRCSize),
	}, nil
}

// NewPlainReader reads and validates the header of the plain blob of
// storedSize bytes in src. A header that cannot be parsed gives ErrFormat; a
// stored size no plain blob can have gives ErrChecksum. Every byte a read
// returns belongs to a segment whose checksum matched.
func NewPlainReader(src io.ReaderAt, storedSize int64) (*Reader, error) {
	var hb [PlainHeaderSize]byte
	if storedSize < PlainHeaderSize {
		return nil, fmt.Errorf("sealed: stored size %d is shorter than the plain header: %w", storedSize, ErrFormat)
	}
	if err := readFull(src, hb[:], 0); err != nil {
		return nil, fmt.Errorf("sealed: reading header: %w", err)
	}
	seg, err := parsePlainHeader(hb[:])
	if err != nil {
		return nil, err
	}
	size, ok := plaintextSize(storedSize, seg, PlainHeaderSize, CRCSize)
	if !ok {
		return nil, fmt.Errorf("sealed: stored size %d is not a possible plain size (truncated or extended): %w", storedSize, ErrChecksum)
	}
	return newReader(src, readerLayout{
		hdr: PlainHeaderSize, overhead: CRCSize, segSize: seg, size: size,
		crcSeed: crc32.Checksum(hb[:], castagnoli),
	})
}

// openPlain reads segment i (n data bytes at stored offset off) and checks
// its CRC. Where dst has room for the data and its CRC (io.Reader and
// io.ReaderAt let a reader use all of p as scratch), one read lands
// straight in dst; otherwise the segment goes through s.buf.
func (r *Reader) openPlain(dst []byte, s *scratch, i int64, n int, off int64) ([]byte, error) {
	buf := s.buf[:n+CRCSize]
	direct := len(dst) >= n+CRCSize
	if direct {
		buf = dst[:n+CRCSize]
	}
	if err := readFull(r.src, buf, off); err != nil {
		return nil, fmt.Errorf("sealed: reading segment %d: %w", i, err)
	}
	r.opened.Add(1)
	data := buf[:n]
	if segmentCRC(r.crcSeed, uint64(i), i == r.nseg-1, data) != binary.BigEndian.Uint32(buf[n:]) {
		clear(buf) // never leave unverified bytes behind
		return nil, &SegmentError{Index: i, Count: r.nseg, Err: ErrChecksum}
	}
	if direct {
		return data, nil
	}
	return dst[:copy(dst[:n], data)], nil
}
