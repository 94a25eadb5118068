package e2eutil

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/strongroom-dev/strongroom/internal/inventory"
)

// InventoryReport reads a delivered inventory report through get (an
// SDK's GetObject of the destination bucket): the manifest, checked
// against manifest.checksum, the keys of every file of the report, and
// the rows of its data files, each checked against the manifest's size
// and MD5.
func InventoryReport(get func(key string) ([]byte, error), manifestKey string) (m inventory.Manifest, keys []string, rows [][]string, err error) {
	raw, err := get(manifestKey)
	if err != nil {
		return m, nil, nil, err
	}
	checksumKey := strings.TrimSuffix(manifestKey, ".json") + ".checksum"
	sum, err := get(checksumKey)
	if err != nil {
		return m, nil, nil, err
	}
	if want := md5.Sum(raw); string(sum) != hex.EncodeToString(want[:]) {
		return m, nil, nil, fmt.Errorf("manifest.checksum %q is not the MD5 of manifest.json", sum)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, nil, nil, err
	}
	keys = []string{manifestKey, checksumKey}
	for _, f := range m.Files {
		keys = append(keys, f.Key)
		gz, err := get(f.Key)
		if err != nil {
			return m, nil, nil, err
		}
		if s := md5.Sum(gz); int64(len(gz)) != f.Size || hex.EncodeToString(s[:]) != f.MD5Checksum {
			return m, nil, nil, fmt.Errorf("%s: size or MD5 differs from the manifest", f.Key)
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return m, nil, nil, err
		}
		recs, err := csv.NewReader(zr).ReadAll()
		if err != nil {
			return m, nil, nil, err
		}
		rows = append(rows, recs...)
	}
	return m, keys, rows, nil
}
