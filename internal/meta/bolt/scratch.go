package bolt

// OpenScratch opens a store whose commits are not synced to disk: for a
// temporary file that is read back at once and never trusted after a crash
// (the metadata of a scale-out backup is built in one, then archived).
func OpenScratch(path string) (*Store, error) {
	s, err := Open(path)
	if err != nil {
		return nil, err
	}
	s.db.NoSync = true
	return s, nil
}
